// What the JavaScript tests share: the protos loaded from proto/ alone, a hub started on
// an OS-chosen port over a temporary folder, and a replica speaking Sync.Connect.

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import * as Automerge from "@automerge/automerge";

export const here = dirname(fileURLToPath(import.meta.url));
const protoRoot = join(here, "..", "..", "proto");
export const hubBin = process.env.NIC_HUB_BIN ?? join(here, "..", "..", "target", "debug", "nic-hub");

const definition = protoLoader.loadSync(
  ["nic/v1/sync.proto", "nic/v1/documents.proto", "nic/v1/directory.proto", "nic/v1/insight.proto"],
  { includeDirs: [protoRoot], keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true },
);
export const nic = grpc.loadPackageDefinition(definition).nic.v1;

/** Starts the hub on an OS-chosen port over a temporary folder. */
export async function startHub() {
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
  const token = readFileSync(join(dataDir, "admin-token"), "utf8").trim();
  /** Calls `method` of `service` (e.g. "Documents", "Create") as the hub admin, or as `as`'s token. */
  const rpc = (service, method, request, as = token) => {
    const client = new nic[service](address, grpc.credentials.createInsecure());
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${as}`);
    return new Promise((resolve, reject) =>
      client[method](request, md, (err, reply) => (err ? reject(err) : resolve(reply))),
    );
  };
  return { address, metadata, token, dataDir, rpc, stop };
}

export const hex = (bytes) => Buffer.from(bytes).toString("hex");
export const sortedHeads = (heads) => [...heads].sort();

/** One replica speaking Sync.Connect: Hello, Subscribe, then the Automerge sync protocol. */
export class Replica {
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

