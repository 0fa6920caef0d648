"""Every network's measure series, with the chart rules' signals, in one table: what a
district data team pulls into a notebook. Each row is one point of one site's (or group's)
series, as Insight computes it for the signed-in member (small groups suppressed as the hub
suppresses them), with the network and measure beside it.

    python every_series.py HUB_URL TOKEN_FILE [OUT.csv]

With pandas installed the rows make a DataFrame as they are (`pandas.DataFrame(rows)`);
without it this writes them as CSV (to OUT.csv, or to standard output)."""

import csv
import sys

import nic_client


def every_series(replica):
    """One record per point of every measure's series, over every network the member has."""
    rows = []
    for network in replica.networks():
        replica.subscribe(network["id"])
        replica.wait_caught_up(network["id"], 60)
        for measure in replica.documents(network=network["id"], kind="measure_definition"):
            name = replica.get(measure["id"]).get("name", measure["title"])
            for row in replica.insight("series", measure=measure["id"]):
                rows.append({"network": network["id"], "measure": name, **row})
    return rows


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    hub, token_file = sys.argv[1], sys.argv[2]
    with open(token_file, encoding="utf-8") as f:
        token = f.read().strip()
    with nic_client.Replica(hub, token) as replica:
        rows = every_series(replica)
    if not rows:
        print("no series: the member's networks have no measures yet", file=sys.stderr)
        return
    out = open(sys.argv[3], "w", newline="", encoding="utf-8") if len(sys.argv) == 4 else sys.stdout
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    signals = sum(1 for r in rows if r.get("signals"))
    print(f"{len(rows)} points, {signals} with a signal", file=sys.stderr)


if __name__ == "__main__":
    main()
