// A client built from proto/ alone, in another language: JavaScript with @grpc/grpc-js
// and @automerge/automerge (the JS implementation), syncing a document through nic-hub.
//
// Run by .ci/run: `npm ci && npm test` in tests/js, with NIC_HUB_BIN pointing at a built hub.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import * as Automerge from "@automerge/automerge";
import { nic, startHub, Replica, hex, sortedHeads } from "./hub.mjs";

test("a JavaScript client syncs a document through the hub", async () => {
  const hub = await startHub();
  try {
    const documents = new nic.Documents(hub.address, grpc.credentials.createInsecure());
    const rpc = (method, request) =>
      new Promise((resolve, reject) => documents[method](request, hub.metadata, (err, reply) => (err ? reject(err) : resolve(reply))));
    // The network the document belongs to, made by the hub admin.
    const directory = new nic.Directory(hub.address, grpc.credentials.createInsecure());
    await new Promise((resolve, reject) =>
      directory.CreateNetwork({ network_id: "js-net", name: "JavaScript network" }, hub.metadata, (err) => (err ? reject(err) : resolve())),
    );

    // A document made in JavaScript, registered with the hub: a PDSA cycle (the hub takes
    // only content that reads as its kind; docs/SCHEMA.md), with two keys of this tool's
    // own beside its fields, which the schema allows.
    const initial = Automerge.change(Automerge.init(), (d) => {
      d.kind = new Automerge.ImmutableString("pdsa_cycle");
      d.schema = new Automerge.Uint(1);
      d.title = "Warm-up problems, cycle 1";
      d.notes = "We tried warm-ups on Monday.";
    });
    const created = await rpc("Create", {
      kind: "DOC_KIND_PDSA_CYCLE",
      network_id: "js-net",
      visibility: "VISIBILITY_NETWORK",
      title: "Warm-up problems",
      initial: Buffer.from(Automerge.save(initial)),
    });
    const docId = created.meta.doc_id;

    // First replica: fetch, edit, and wait until the hub says the edit is durable.
    const a = new Replica(hub.address, hub.metadata, "js-a", docId);
    a.subscribe();
    await a.until(() => a.doc.title === "Warm-up problems, cycle 1", "the document to arrive");
    a.edit((d) => {
      d.prediction = "70% will pass";
      Automerge.splice(d, ["notes"], 0, 0, "Cycle 1: ");
    });
    const headsA = sortedHeads(Automerge.getHeads(a.doc));
    await a.until(() => a.acks.some((h) => JSON.stringify(sortedHeads(h)) === JSON.stringify(headsA)), "the DocAck");

    // The hub's saved copy holds the edit, at the same heads.
    const got = await rpc("Get", { doc_id: docId });
    const saved = Automerge.load(new Uint8Array(got.document));
    assert.equal(saved.prediction, "70% will pass");
    assert.equal(saved.notes, "Cycle 1: We tried warm-ups on Monday.");
    assert.deepEqual(sortedHeads(got.heads.map(hex)), headsA);

    // Second replica receives the first one's edit through the hub.
    const b = new Replica(hub.address, hub.metadata, "js-b", docId);
    b.subscribe();
    await b.until(() => b.doc.prediction === "70% will pass", "the edit to reach the second client");
    assert.deepEqual(sortedHeads(Automerge.getHeads(b.doc)), headsA);

    // Garbage gets an INVALID_ARGUMENT DocError; the stream goes on working.
    b.call.write({ doc_sync: { doc_id: docId, message: Buffer.from("not a sync message") } });
    await b.until(() => b.errors.length > 0, "the DocError");
    assert.equal(b.errors[0].code, "ERROR_CODE_INVALID_ARGUMENT");
    b.edit((d) => {
      d.decision = "adapt";
    });
    await a.until(() => a.doc.decision === "adapt", "b's later edit to reach a");

    a.close();
    b.close();
  } finally {
    assert.equal(await hub.stop(), 0, "the hub exits cleanly on SIGTERM");
  }
});
