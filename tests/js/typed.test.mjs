// Typed documents across implementations: a PDSA cycle written by nic-model (Rust) loads
// here with the expected fields, and the same cycle written here (fixtures/pdsa_from_js)
// is read back as a typed cycle by crates/nic-model/tests/js_fixtures.rs.
// Regenerate this side's fixture with `NIC_WRITE_FIXTURES=1 npm test`.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import * as Automerge from "@automerge/automerge";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const str = (s) => new Automerge.ImmutableString(s);

/** The cycle as JSON, with big integers and immutable strings made plain for comparing. */
const plain = (doc) =>
  JSON.parse(JSON.stringify(doc, (_, v) => (typeof v === "bigint" ? Number(v) : v)));

test("a PDSA cycle written by nic-model loads with the expected fields", () => {
  const doc = Automerge.load(readFileSync(join(fixtures, "pdsa_from_rust.automerge")));
  assert.equal(doc.kind.toString(), "pdsa_cycle");
  assert.equal(doc.schema, 1n);
  assert.equal(doc.cycle_number, 2n);
  assert.equal(doc.purpose.toString(), "test");
  assert.equal(doc.previous_cycle_id.toString(), "cycle-1");
  // Prose is collaborative text: a plain string here.
  assert.equal(typeof doc.plan.objective, "string");
  assert.equal(doc.plan.questions[0].prediction, "At least 20 of 28");
  assert.equal(doc.plan.questions[0].data_type.toString(), "quantitative");
  assert.equal(doc.study.learning, "22 of 28 finished.");
  assert.equal(doc.act.decision.toString(), "adapt");
  assert.equal(doc.act.next_cycle_id, null);
  assert.deepEqual(doc.voices.map(String), ["students", "teachers"]);
});

test("the same cycle written here has the same shape, and nic-model reads it", () => {
  // Through a change: `Automerge.from` would store the Uint wrappers as maps.
  const value = {
    kind: str("pdsa_cycle"),
    schema: new Automerge.Uint(1),
    change_idea_id: str("daily-number-talk"),
    cycle_number: new Automerge.Uint(2),
    previous_cycle_id: str("cycle-1"),
    purpose: str("test"),
    planned_start: str("2026-11-30"),
    planned_end: null,
    plan: {
      objective: "Will a number talk raise exit-ticket completion?",
      questions: [
        {
          id: str("q1"),
          question: "How many finish the exit ticket?",
          prediction: "At least 20 of 28",
          data_type: str("quantitative"),
        },
      ],
      who: "",
      what: "",
      when: "",
      where: "",
      population: "",
      data_collection: "",
    },
    do: { as_planned: null, what_happened: "", observations: [], adjustments: "" },
    study: { results: [], learning: "22 of 28 finished." },
    act: { decision: str("adapt"), rationale: "", next_cycle_id: null },
    equity_pauses: [],
    voices: [str("students"), str("teachers")],
  };
  const written = Automerge.change(Automerge.init(), (d) => {
    for (const [k, v] of Object.entries(value)) d[k] = v;
  });
  // As another peer would see it: saved and loaded.
  const mine = Automerge.load(Automerge.save(written));
  const rust = Automerge.load(readFileSync(join(fixtures, "pdsa_from_rust.automerge")));
  assert.deepEqual(plain(mine), plain(rust));
  const path = join(fixtures, "pdsa_from_js.automerge");
  if (process.env.NIC_WRITE_FIXTURES) {
    writeFileSync(path, Automerge.save(mine));
  }
  // The committed fixture holds the same cycle.
  assert.deepEqual(plain(Automerge.load(readFileSync(path))), plain(mine));
});
