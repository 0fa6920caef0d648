"""The package against a real hub: offline edits that sync, the `nic` command reading what
Python wrote, refusals as exceptions, directory records."""

import csv
import io
import os
import subprocess
import sys

import nic_client
import pytest

from conftest import NETWORK

WAIT = 60


def cycle_content(objective):
    return {
        "change_idea_id": "number-talks",
        "cycle_number": 1,
        "plan": {
            "objective": objective,
            "questions": [{"id": "q1", "question": "Do more students share?", "prediction": "Half"}],
        },
    }


def test_an_offline_edit_syncs_and_the_nic_command_reads_it(hub, tmp_path):
    replica = nic_client.Replica(hub.url, hub.admin_token, path=str(tmp_path / "replica"))
    replica.go_offline()
    doc = replica.create(NETWORK, "pdsa_cycle", "Number talks, cycle 1",
                         cycle_content("Will talks help?"), site="lincoln-hs")
    replica.update(doc, {"plan": {"objective": "Will a daily number talk help?"}}, "Plan: objective")
    status = replica.status()
    assert status["connection"] == "offline"
    assert status["unsent_documents"] == 1 and not status["synced"]
    assert replica.get(doc)["plan"]["objective"] == "Will a daily number talk help?"

    replica.reconnect()
    replica.wait_synced(WAIT)
    assert replica.status()["synced"]
    shown = hub.nic_json("docs", "show", doc)
    assert shown["plan"]["objective"] == "Will a daily number talk help?"
    assert shown["meta"]["site"] == "lincoln-hs"
    replica.close()

    # Reopened from its folder, the replica still holds it, offline or not.
    with nic_client.Replica("http://127.0.0.1:9", hub.admin_token, path=str(tmp_path / "replica")) as again:
        assert again.get(doc)["plan"]["questions"][0]["prediction"] == "Half"


def test_a_network_syncs_here_and_reads_as_plain_values(hub):
    with nic_client.Replica(hub.url, hub.admin_token) as replica:
        replica.subscribe(NETWORK)
        replica.wait_caught_up(NETWORK, WAIT)
        listed = hub.nic_json("docs", "list")
        cycles = replica.documents(network=NETWORK, kind="pdsa_cycle")
        assert cycles, "the demo has cycles"
        assert {d["id"] for d in cycles} == {d["id"] for d in listed if d["kind"] == "pdsa_cycle"}
        first = replica.get(cycles[0]["id"])
        assert first["kind"] == "pdsa_cycle"
        assert isinstance(first["cycle_number"], int)
        assert isinstance(first["plan"]["objective"], str)


def test_refusals_raise_with_the_librarys_words(hub):
    token = hub.member("otto", "observer")
    with nic_client.Replica(hub.url, hub.admin_token) as admin:
        doc = admin.create(NETWORK, "pdsa_cycle", "Refusals", cycle_content("Refused?"), site="lincoln-hs")
        admin.wait_saved(doc, WAIT)

        with pytest.raises(nic_client.EditRefused, match='no field "cycle_numbr"'):
            admin.update(doc, {"cycle_numbr": 2}, "typo")
        admin.update(doc, {"do": {"what_happened": "Ran it"}}, "Do")
        with pytest.raises(nic_client.EditRefused, match="prediction"):
            admin.update(doc, {"plan": {"questions": [
                {"id": "q1", "question": "Do more students share?", "prediction": "All"}]}}, "hindsight")
        with pytest.raises(nic_client.InvalidArgument):
            admin.create(NETWORK, "no_such_kind", "x")
        with pytest.raises(nic_client.UnknownDocument):
            admin.get("3irD37dtZD9cTEhznEfK7jjtRazU")

    with nic_client.Replica(hub.url, token) as observer:
        observer.subscribe(NETWORK)
        observer.wait_caught_up(NETWORK, WAIT)
        with pytest.raises(nic_client.HubRefused, match="may read but not change"):
            observer.update(doc, {"plan": {"objective": "Observers cannot"}}, "nope")
        assert isinstance(nic_client.HubRefused("x"), nic_client.NicError)


def test_directory_records_take_to_a_table(hub):
    hub.member("dana", "lead")
    with nic_client.Replica(hub.url, hub.admin_token) as replica:
        networks = replica.networks()
        sites = replica.sites(NETWORK)
        members = replica.members(NETWORK)
        audit = replica.audit_log()
        who = replica.whoami()
    for records in (networks, sites, members, audit):
        assert isinstance(records, list) and records
        assert all(isinstance(r, dict) for r in records)
    assert NETWORK in [n["id"] for n in networks]
    assert {s["id"] for s in sites} == {"lincoln-hs", "adams-ms", "jefferson-ms", "roosevelt-hs"}
    assert "dana" in [m["id"] for m in members]
    assert who["member"]["id"] == hub.nic_json("whoami")["member"]
    # The audit log, oldest first, names the member just added.
    assert [e["seq"] for e in audit] == sorted(e["seq"] for e in audit)
    assert any("dana" in e["target"] for e in audit), audit


def test_a_change_made_with_nic_arrives_in_python_with_its_author(hub):
    lena = hub.member("lena", "lead")
    admin = hub.nic_json("whoami")
    with nic_client.Replica(hub.url, lena) as replica:
        replica.subscribe(NETWORK)
        replica.wait_caught_up(NETWORK, WAIT)
        doc = replica.documents(kind="pdsa_cycle")[0]["id"]
        changes = replica.changes()
        hub.nic("cycle", "do", doc, "Ran it in three sections")
        while True:
            event = changes.next(WAIT)
            assert event is not None, "the change made with nic did not arrive"
            if event.get("doc") == doc and event["origin"] == "remote":
                break
        assert event["authors"] == [admin["member"]], event
        assert event["changes"][-1]["author"] == admin["member"]
        assert replica.get(doc)["do"]["what_happened"] == "Ran it in three sections"


def normalised(value):
    """A record's cell as the CSV writes it."""
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def test_insight_records_match_nic_export(hub):
    with nic_client.Replica(hub.url, hub.admin_token) as replica:
        replica.subscribe(NETWORK)
        replica.wait_caught_up(NETWORK, WAIT)
        [measure] = [d for d in replica.documents(kind="measure_definition")]
        name = replica.get(measure["id"])["name"]
        records = replica.insight("series", measure=measure["id"])
        overview = replica.insight("overview", network=NETWORK)
        with pytest.raises(nic_client.InvalidArgument, match="needs measure="):
            replica.insight("series")

    exported = list(csv.DictReader(io.StringIO(
        hub.nic("export", "series", "--measure", name, "--format", "csv"))))
    assert len(records) == len(exported) > 0
    for mine, theirs in zip(records, exported):
        assert {k: normalised(v) for k, v in mine.items()} == theirs
    assert any(r["suppressed"] for r in records), "the demo has a small group, suppressed"
    assert all(r["value"] is None for r in records if r["suppressed"]), "nothing suppressed shows"
    assert isinstance(next(r["n"] for r in records if r["n"] is not None), int)

    exported = list(csv.DictReader(io.StringIO(
        hub.nic("export", "overview", "--format", "csv"))))
    assert [{k: normalised(v) for k, v in r.items()} for r in overview] == exported


def test_the_every_series_example_pulls_every_networks_points(hub, tmp_path):
    out = tmp_path / "series.csv"
    token_file = tmp_path / "admin-token"
    token_file.write_text(hub.admin_token)
    example = os.path.join(os.path.dirname(__file__), "..", "examples", "every_series.py")
    done = subprocess.run([sys.executable, example, hub.url, str(token_file), str(out)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows and {r["network"] for r in rows} == {NETWORK}
    exported = list(csv.DictReader(io.StringIO(
        hub.nic("export", "series", "--measure", rows[0]["measure"], "--format", "csv"))))
    assert len([r for r in rows if r["measure"] == rows[0]["measure"]]) == len(exported)
    assert "with a signal" in done.stderr


def without_meta(doc):
    return {k: v for k, v in doc.items() if k != "meta"}


def test_python_and_nic_edit_one_cycle_at_once_and_converge(hub, tmp_path):
    with nic_client.Replica(hub.url, hub.admin_token, path=str(tmp_path / "replica")) as replica:
        doc = replica.create(NETWORK, "pdsa_cycle", "Both at once",
                             cycle_content("Will exit tickets help?"), site="lincoln-hs")
        replica.wait_saved(doc, WAIT)
        changes = replica.changes()

        # Python edits offline while `nic` edits the same cycle through the hub.
        replica.go_offline()
        replica.update(doc, {"plan": {"objective": "Will daily exit tickets help?"},
                             "do": {"what_happened": "Python: ran it twice."}}, "offline")
        hub.nic("cycle", "do", doc, "nic: ran it in three sections.")
        replica.reconnect()
        replica.wait_synced(WAIT)
        while "three sections" not in replica.get(doc)["do"]["what_happened"]:
            assert changes.next(WAIT) is not None, "nic's change did not arrive"

        mine = replica.get(doc)
    theirs = hub.nic_json("docs", "show", doc)
    assert without_meta(mine) == without_meta(theirs)
    assert mine["plan"]["objective"] == "Will daily exit tickets help?"
    # `nic cycle do TEXT` sets the whole field (a new text), so it replaces what Python
    # wrote there meanwhile; Python's other field stands.
    assert mine["do"]["what_happened"] == "nic: ran it in three sections."


def test_concurrent_edits_of_one_text_from_two_replicas_keep_both(hub):
    with nic_client.Replica(hub.url, hub.admin_token) as a, \
            nic_client.Replica(hub.url, hub.admin_token) as b:
        doc = a.create(NETWORK, "pdsa_cycle", "One text, two writers",
                       cycle_content("Will exit tickets help?"), site="lincoln-hs")
        a.wait_saved(doc, WAIT)
        b.subscribe(NETWORK)
        b.wait_caught_up(NETWORK, WAIT)
        assert b.get(doc)["plan"]["objective"] == "Will exit tickets help?"
        a.go_offline()
        b.go_offline()
        a.update(doc, {"plan": {"objective": "Will daily exit tickets help?"}}, "a")
        b.update(doc, {"plan": {"objective": "Will exit tickets help every student?"}}, "b")
        a.reconnect()
        b.reconnect()
        a.wait_synced(WAIT)
        b.wait_synced(WAIT)
        changes = a.changes()
        while "every student" not in a.get(doc)["plan"]["objective"]:
            assert changes.next(WAIT) is not None, "b's edit did not reach a"
        changes = b.changes()
        while "daily" not in b.get(doc)["plan"]["objective"]:
            assert changes.next(WAIT) is not None, "a's edit did not reach b"
        assert a.get(doc) == b.get(doc)
        assert a.get(doc)["plan"]["objective"] == "Will daily exit tickets help every student?"
