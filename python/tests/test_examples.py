"""The examples and the README's example, run as a user runs them, against a real hub."""

import os
import re
import subprocess
import sys

HERE = os.path.dirname(__file__)
ROOT = os.path.join(HERE, "..", "..")


def run(args, cwd=None):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          timeout=120, check=False, cwd=cwd)


def test_the_readme_example_works_as_written(hub, tmp_path):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    section = readme[readme.index("### From Python"):]
    example = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len(example.strip().splitlines()) == 5, "the README promises five lines"
    # Word for word, but for the address: the test's hub listens on a free port, not 50051.
    assert "http://127.0.0.1:50051" in example
    script = tmp_path / "example.py"
    script.write_text(example.replace("http://127.0.0.1:50051", hub.url))
    # The quickstart's folder: nic-data/admin-token beside where the example runs.
    (tmp_path / "nic-data").mkdir()
    (tmp_path / "nic-data" / "admin-token").write_text(hub.admin_token + "\n")
    done = run([str(script)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    printed = done.stdout.splitlines()
    cycles = [d for d in hub.nic_json("docs", "list") if d["kind"] == "pdsa_cycle"]
    assert len(printed) == len(cycles) > 0
    for cycle in cycles:
        objective = hub.nic_json("docs", "show", cycle["id"])["plan"]["objective"]
        assert f"{cycle['title']} - {objective}" in printed


def points(hub, site):
    docs = [d for d in hub.nic_json("docs", "list", "--kind", "measure_data")
            if d.get("site") == site]
    assert len(docs) == 1, docs
    return {p["id"]: p for p in hub.nic_json("docs", "show", docs[0]["id"])["points"]}


def test_the_weekly_import_writes_good_rows_and_prints_every_refusal(hub, tmp_path):
    week = tmp_path / "week.csv"
    week.write_text(
        "period,site,group,numerator,denominator,n,note\n"
        "2027-05-17,lincoln-hs,all,70,120,120,\n"
        "2027-05-17,lincoln-hs,english_learner=yes,30,20,24,typo in the district file\n"
        "2027-05-17,adams-ms,all,50,95,95,\n"
        "2027-05-17,nowhere-ms,all,5,10,10,\n"
        "2027-05-17,lincoln-hs,english_learner=no,40,96,many,\n"
    )
    admin_token = tmp_path / "admin-token"
    admin_token.write_text(hub.admin_token)
    example = os.path.join(HERE, "..", "examples", "weekly_import.py")
    before = points(hub, "lincoln-hs")

    done = run([example, hub.url, str(admin_token), str(week),
                "--measure", "On track for Algebra I", "--replica", str(tmp_path / "replica")])
    assert done.returncode == 1, done.stderr
    out = done.stdout
    assert "refused line 3 (lincoln-hs): numerator 30 is outside 0..denominator (20)" in out
    assert re.search(r"refused line 5 \(nowhere-ms\): .*site nowhere-ms does not exist", out), out
    assert "refused line 6 (lincoln-hs): unreadable" in out
    assert "imported 2 rows; refused 3" in out
    lincoln = points(hub, "lincoln-hs")
    assert lincoln["2027-05-17/all"]["numerator"] == 70
    assert "2027-05-17/english_learner=yes" not in lincoln
    assert len(lincoln) == len(before) + 1
    assert points(hub, "adams-ms")["2027-05-17/all"]["denominator"] == 95

    # Run again from the same folder: the same rows replace themselves, nothing doubles.
    again = run([example, hub.url, str(admin_token), str(week),
                 "--measure", "On track for Algebra I", "--replica", str(tmp_path / "replica")])
    assert again.returncode == 1, again.stderr
    assert "imported 2 rows" in again.stdout
    assert points(hub, "lincoln-hs") == lincoln

    # A school's member may write only their school: the others are refused, by name.
    mia = tmp_path / "mia-token"
    mia.write_text(hub.member("mia", "site-member", site="lincoln-hs"))
    week.write_text("period,site,group,numerator,denominator,n\n"
                    "2027-05-24,lincoln-hs,all,72,120,120\n"
                    "2027-05-24,adams-ms,all,51,95,95\n")
    done = run([example, hub.url, str(mia), str(week), "--measure", "On track for Algebra I"])
    assert done.returncode == 1, done.stderr
    assert re.search(r"refused line 3 \(adams-ms\): mia may not", done.stdout), done.stdout
    assert "imported 1 rows; refused 1" in done.stdout
    assert points(hub, "lincoln-hs")["2027-05-24/all"]["numerator"] == 72
    assert "2027-05-24/all" not in points(hub, "adams-ms")
