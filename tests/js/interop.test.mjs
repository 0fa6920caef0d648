// A client built from proto/ alone, in another language: JavaScript with @grpc/grpc-js
// and @automerge/automerge (the JS implementation), syncing a document through nic-hub.
//
// Run by .ci/run: `npm ci && npm test` in tests/js, with NIC_HUB_BIN pointing at a built hub.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import * as Automerge from "@automerge/automerge";

const here = dirname(fileURLToPath(import.meta.url));
const protoRoot = join(here, "..", "..", "proto");
const hubBin = process.env.NIC_HUB_BIN ?? join(here, "..", "..", "target", "debug", "nic-hub");

const definition = protoLoader.loadSync(
  ["nic/v1/sync.proto", "nic/v1/documents.proto", "nic/v1/directory.proto"],
  { includeDirs: [protoRoot], keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true },
);
const nic = grpc.loadPackageDefinition(definition).nic.v1;

/** Starts the hub on an OS-chosen port over a temporary folder. */
async function startHub() {
  const dataDir = mkdtempSync(join(tmpdir(), "nic-js-"));
  const child = spawn(hubBin, ["serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--metrics-listen", "off"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const address = await new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`hub exited early with ${code}`)));
    lines.on("line", (line) => {
      const m = line.match(/listening on (\S+)/);
      if (m) resolve(m[1]);
    });
  });
  // The first start wrote the hub admin's token beside the database; every call carries it.
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${readFileSync(join(dataDir, "admin-token"), "utf8").trim()}`);
  const stop = async () => {
    const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    const code = await exited;
    rmSync(dataDir, { recursive: true, force: true });
    return code;
  };
  return { address, metadata, stop };
}

const hex = (bytes) => Buffer.from(bytes).toString("hex");
const sortedHeads = (heads) => [...heads].sort();

/** One replica speaking Sync.Connect: Hello, Subscribe, then the Automerge sync protocol. */
class Replica {
  constructor(address, metadata, peerId, docId) {
    this.docId = docId;
    this.doc = Automerge.init();
    this.syncState = Automerge.initSyncState();
    this.waiters = [];
    this.acks = [];
    this.errors = [];
    const client = new nic.Sync(address, grpc.credentials.createInsecure());
    this.call = client.Connect(metadata);
    this.call.on("data", (frame) => this.onFrame(frame));
    this.call.on("error", () => {});
    this.call.write({ hello: { peer_id: peerId, client_name: "js-interop", client_version: "1", protocol_version: 1 } });
  }

  subscribe() {
    this.call.write({ subscribe: { docs: { doc_ids: [this.docId] } } });
  }

  onFrame(frame) {
    if (frame.doc_sync) {
      [this.doc, this.syncState] = Automerge.receiveSyncMessage(this.doc, this.syncState, new Uint8Array(frame.doc_sync.message));
      this.flush();
    } else if (frame.doc_ack) {
      this.acks.push(frame.doc_ack.heads.map(hex));
    } else if (frame.doc_error) {
      this.errors.push(frame.doc_error);
    }
    for (const w of [...this.waiters]) w();
  }

  /** Sends every sync message Automerge has for the hub. */
  flush() {
    for (;;) {
      const [state, message] = Automerge.generateSyncMessage(this.doc, this.syncState);
      this.syncState = state;
      if (!message) return;
      this.call.write({ doc_sync: { doc_id: this.docId, message: Buffer.from(message) } });
    }
  }

  edit(fn) {
    this.doc = Automerge.change(this.doc, fn);
    this.flush();
  }

  /** Resolves once `ready()` holds, checked after every frame; fails after 10 s. */
  until(ready, what) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 10_000);
      const check = () => {
        if (ready()) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve();
        }
      };
      this.waiters.push(check);
      check();
    });
  }

  close() {
    this.call.end();
    this.call.cancel();
  }
}

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

    // A document made in JavaScript, registered with the hub.
    const initial = Automerge.change(Automerge.init(), (d) => {
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
