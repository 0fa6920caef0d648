"""A scheduled job: import a district's weekly measure CSV into every school's data document
for the measure, and print what was refused.

    python weekly_import.py HUB TOKEN_FILE FILE.csv --measure NAME_OR_ID [--network NET]
                            [--replica FOLDER]

The CSV has the layout `nic import measures` reads (a header row; columns in any order):
period (YYYY-MM-DD), site, group (`all` or `dimension=value`), numerator, denominator,
value, n, note. A row for a period, site and group already imported replaces it (its point
id is `PERIOD/GROUP`, as `nic import` writes it), so running the job twice changes nothing.

Rows are checked against the measure first, as `nic import measures` checks them (a date,
a group the measure breaks down by, the numbers its scoring needs, a proportion's numerator
within its denominator); a row that fails is reported and left out. Each school's rows then
go in as one change; if the replica refuses it, that school's rows are tried one by one so
the report names each refused row. The hub has the last word: a school the token may not
write to, or one not in the network, is refused, and the report says so.
Exits 0 when every row went in, 1 when any was refused.

Run it from cron with a replica folder (`--replica`) and it only sends what changed since
the last run.
"""

import argparse
import csv
import datetime
import sys

import nic_client

WAIT = 60


def read_rows(path):
    """The CSV's rows as (line, site, point); line counts the header as line 1."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        reader.fieldnames = [h.strip().lower() for h in reader.fieldnames or []]
        for line, row in enumerate(reader, start=2):
            row = {k: (v or "").strip() for k, v in row.items() if k}

            def number(name):
                text = row.get(name, "")
                return float(text) if text else None

            try:
                point = {
                    "id": f"{row['period']}/{row['group']}",
                    "period": row["period"],
                    "group": row["group"],
                    "numerator": number("numerator"),
                    "denominator": number("denominator"),
                    "value": number("value"),
                    "n": int(row.get("n") or 0),
                    "note": row.get("note", ""),
                }
            except (KeyError, ValueError) as e:
                yield line, row.get("site", ""), f"unreadable: {e}"
                continue
            yield line, row["site"], point


def find_measure(replica, network, measure):
    for d in replica.documents(network=network, kind="measure_definition"):
        if measure in (d["id"], d["title"]):
            return replica.get(d["id"])
    raise SystemExit(f"no measure {measure!r} in {network}")


def problems(point, definition):
    """What the measure's rules find wrong with a row (the checks `nic import` makes)."""
    found = []
    try:
        datetime.date.fromisoformat(point["period"])
    except ValueError:
        found.append(f"period {point['period']!r} is not a date")
    group = point["group"]
    if group != "all":
        dimension, _, value = group.partition("=")
        if not value or dimension not in definition["group_dimensions"]:
            found.append(f"group {group!r} is not all or one of "
                         f"{definition['group_dimensions']}=value")
    num, den = point["numerator"], point["denominator"]
    scoring = definition["scoring"]
    if scoring in ("proportion", "ratio"):
        if num is None or den is None:
            found.append("numerator and denominator are both required")
        elif den <= 0:
            found.append("denominator must be above 0")
        elif scoring == "proportion" and not 0 <= num <= den:
            found.append(f"numerator {num:g} is outside 0..denominator ({den:g})")
    elif scoring == "count" and num is None:
        found.append("numerator (the count) is required")
    elif scoring == "continuous" and point["value"] is None:
        found.append("value is required")
    return found


def merged(points, new):
    """The school's points with the new ones in: same id replaces, others are added."""
    by_id = {p["id"]: p for p in points}
    for p in new:
        by_id[p["id"]] = p
    return sorted(by_id.values(), key=lambda p: (p["period"], p["group"]))


def import_school(replica, network, measure, site, rows, docs, refused):
    """Writes one school's rows; returns the document and the rows that went in."""
    doc = docs.get(site)
    try:
        if doc is None:
            doc = replica.create(network, "measure_data", f"Measure data, {site}",
                                 {"measure_id": measure}, site=site)
            docs[site] = doc
        current = replica.get(doc)["points"]
        replica.update(doc, {"points": merged(current, [p for _, p in rows])},
                       f"weekly import: {len(rows)} rows")
        return doc, rows
    except nic_client.EditRefused:
        if len(rows) == 1:
            raise
    # Row by row, so the report names the rows refused.
    accepted = []
    for line, point in rows:
        try:
            current = replica.get(doc)["points"]
            replica.update(doc, {"points": merged(current, [point])}, f"weekly import: line {line}")
            accepted.append((line, point))
        except nic_client.EditRefused as e:
            refused.append((line, site, str(e)))
    return doc, accepted


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("hub")
    parser.add_argument("token_file")
    parser.add_argument("csv")
    parser.add_argument("--measure", required=True)
    parser.add_argument("--network", default=None)
    parser.add_argument("--replica", default=None, help="a folder kept between runs")
    args = parser.parse_args()
    with open(args.token_file, encoding="utf-8") as f:
        token = f.read().strip()

    refused = []  # (line, site, reason)
    written = 0
    with nic_client.Replica(args.hub, token, path=args.replica) as replica:
        network = args.network or replica.networks()[0]["id"]
        replica.subscribe(network)
        replica.wait_caught_up(network, WAIT)
        definition = find_measure(replica, network, args.measure)
        measure = definition["id"]
        docs = {}
        for d in replica.get_many([d["id"] for d in replica.documents(
                network=network, kind="measure_data")]):
            if d["measure_id"] == measure and d["meta"]["site"]:
                docs[d["meta"]["site"]] = d["id"]

        by_site = {}
        for line, site, point in read_rows(args.csv):
            wrong = [point] if isinstance(point, str) else problems(point, definition)
            if wrong:
                refused.append((line, site, "; ".join(wrong)))
            else:
                by_site.setdefault(site, []).append((line, point))

        written_to = {}
        for site, rows in sorted(by_site.items()):
            try:
                doc, accepted = import_school(replica, network, measure, site, rows, docs,
                                              refused)
            except nic_client.NicError as e:
                refused.extend((line, site, str(e)) for line, _ in rows)
                continue
            written_to[doc] = (site, accepted)

        # Durable on the hub, or refused there: the hub's answer, school by school.
        for doc, (site, rows) in written_to.items():
            try:
                replica.wait_saved(doc, WAIT)
                written += len(rows)
            except nic_client.HubRefused as e:
                refused.extend((line, site, str(e)) for line, _ in rows)

    for line, site, reason in sorted(refused):
        print(f"refused line {line} ({site or 'no site'}): {reason}")
    print(f"imported {written} rows; refused {len(refused)}")
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
