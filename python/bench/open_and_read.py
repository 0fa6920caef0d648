"""Benchmark: reopen a synced replica of 1,000 PDSA cycles from its folder, offline, and
read every cycle as Python values with `get_many` (what `nic-load --replica 1000` times for
the Rust library), then the same with one `get` per cycle. Starts its own hub (NIC_HUB_BIN,
NIC_BIN: as the tests) to sync the cycles once.

    python python/bench/open_and_read.py [--docs 1000] [--rounds 3]

Prints the seconds to open, to list, and to read every cycle, per round (the folder is
synced once, then reopened offline each round)."""

import argparse
import os
import sys
import tempfile
import time

import nic_client

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from conftest import NETWORK, Hub  # noqa: E402  (the tests' hub, on a free loopback port)

OFFLINE = "http://127.0.0.1:9"  # port 9 refuses: the hub is out of reach


def cycle(n):
    return {
        "change_idea_id": f"idea-{n % 12}",
        "cycle_number": 1 + n % 5,
        "purpose": "test",
        "planned_start": "2026-09-07",
        "plan": {
            "objective": f"Will change idea {n % 12} help students in section {n}?",
            "questions": [
                {"id": f"q{q}", "question": f"Question {q} of cycle {n}?",
                 "prediction": f"Prediction {q}: about half of the students will."}
                for q in range(3)
            ],
            "who": "Grade 9 algebra teachers", "what": "A daily number talk",
            "when": "First ten minutes", "where": "Room 12",
        },
        "do": {"what_happened": f"Ran it in section {n} as planned."},
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    hub = Hub()
    with tempfile.TemporaryDirectory() as folder:
        made = time.perf_counter()
        with nic_client.Replica(hub.url, hub.admin_token, path=folder) as replica:
            replica.subscribe(NETWORK)
            replica.wait_caught_up(NETWORK, 60)
            for n in range(args.docs):
                replica.create(NETWORK, "pdsa_cycle", f"Cycle {n}", cycle(n), site="lincoln-hs")
            replica.wait_synced(120)
            total = len(replica.documents(kind="pdsa_cycle"))
        hub.stop()
        print(f"made and synced {args.docs} cycles ({total} in all) in "
              f"{time.perf_counter() - made:.2f} s")
        for r in range(args.rounds):
            t0 = time.perf_counter()
            replica = nic_client.Replica(OFFLINE, "token", path=folder)
            t1 = time.perf_counter()
            listed = replica.documents(kind="pdsa_cycle")
            t2 = time.perf_counter()
            values = replica.get_many([d["id"] for d in listed])
            t3 = time.perf_counter()
            assert len(values) == total and all("plan" in v for v in values)
            replica.close()
            # The same, one `get` per cycle (a fresh replica: nothing loaded yet).
            t4 = time.perf_counter()
            replica = nic_client.Replica(OFFLINE, "token", path=folder)
            one_by_one = [replica.get(d["id"]) for d in replica.documents(kind="pdsa_cycle")]
            t5 = time.perf_counter()
            assert one_by_one == values
            replica.close()
            print(f"round {r + 1}: open {t1 - t0:.3f} s, list {t2 - t1:.3f} s, "
                  f"read every cycle {t3 - t2:.3f} s; open + list + read {t3 - t0:.3f} s "
                  f"(with one get per cycle: {t5 - t4:.3f} s)")


if __name__ == "__main__":
    main()
