// What the automerge-repo tests share: clients made with @automerge/automerge-repo and its
// WebSocket adapter exactly as a JavaScript app makes them, an adapter that records what the
// server sent and how the socket closed, bounded waits, and automerge-repo's own Node
// server (the reference the harness is checked against, and what nic-hub must behave like).

import { createServer } from "node:http";
import { Repo, cbor } from "@automerge/automerge-repo";
import { WebSocketClientAdapter, WebSocketServerAdapter } from "@automerge/automerge-repo-network-websocket";
import { WebSocketServer, WebSocket } from "ws";
import * as Automerge from "@automerge/automerge";

/** How long any single wait may take before the test fails, naming what it waited for. */
export const WAIT_MS = 10_000;

/** Resolves as `promise` does, or fails after `ms` naming `what`. */
export function within(promise, what, ms = WAIT_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves with the first `event` of `emitter` whose payload passes `accept`. */
export function next(emitter, event, what, accept = () => true) {
  let listener;
  const arrived = new Promise((resolve) => {
    listener = (payload) => accept(payload) && resolve(payload);
    emitter.on(event, listener);
  });
  return within(arrived, what).finally(() => emitter.off(event, listener));
}

/** Resolves once the document held by `handle` passes `ready` (checked now and on every change). */
export function until(handle, ready, what) {
  if (ready(handle.doc())) return Promise.resolve();
  return next(handle, "change", what, () => ready(handle.doc())).then(() => undefined);
}

/**
 * The Node client adapter, unchanged, but keeping every message the server sent (decoded)
 * and every close of its socket: the adapter itself only logs `error` messages and close
 * codes, and a test must see them.
 */
export class RecordingAdapter extends WebSocketClientAdapter {
  received = [];
  closes = [];

  connect(peerId, peerMetadata) {
    super.connect(peerId, peerMetadata);
    this.socket.addEventListener("close", (e) => {
      this.closes.push({ code: e.code, reason: String(e.reason) });
      this.emit("test-closed", this.closes.at(-1));
    });
  }

  receiveMessage(bytes) {
    let message;
    try {
      message = cbor.decode(new Uint8Array(bytes));
    } catch {
      message = { type: "undecodable", bytes: Buffer.from(bytes).toString("hex") };
    }
    this.received.push(message);
    this.emit("test-received", message);
    super.receiveMessage(bytes);
  }

  /** The messages of `type` received so far. */
  of(type) {
    return this.received.filter((m) => m.type === type);
  }
}

/**
 * A Repo with one WebSocket client adapter on `url`, as an app makes it; resolves once the
 * server answered the join with its `peer` message.
 */
export async function openRepo(url, peerId) {
  const adapter = new RecordingAdapter(url);
  const peer = next(adapter, "peer-candidate", `the server's peer message (${peerId})`);
  const repo = new Repo({ network: [adapter], peerId });
  const { peerId: serverPeerId } = await peer;
  // A ticket is good for one connection: the adapter would retry the same URL after a close
  // and be closed with 4401 every time. An app fetches a fresh ticket and sets `adapter.url`
  // first; these tests never reconnect.
  adapter.retryInterval = 0;
  return { repo, adapter, serverPeerId, close: () => repo.shutdown() };
}

/**
 * Opens a plain WebSocket on `url` and resolves with how the server answered the upgrade:
 * `{ status }` for an HTTP refusal, `{ open: true }` for an accepted one (then closed).
 */
export function tryUpgrade(url) {
  return within(
    new Promise((resolve) => {
      const ws = new WebSocket(url);
      ws.on("unexpected-response", (_req, res) => {
        resolve({ status: res.statusCode });
        res.resume();
        ws.terminate();
      });
      ws.on("open", () => {
        resolve({ open: true });
        ws.close();
      });
      ws.on("error", (e) => resolve({ error: e.message }));
    }),
    `the answer to an upgrade on ${url.replace(/ticket=[^&]*/, "ticket=…")}`,
  );
}

/**
 * What a hostile client gets with `url`: `{ status }` for an HTTP refusal; else it sends
 * `join` (and, once answered, a `request` for `documentId`) and resolves, once the socket
 * closes, with the types of the messages it was sent and the close code and reason.
 */
export function trySession(url, documentId) {
  return within(
    new Promise((resolve) => {
      const ws = new WebSocket(url);
      const received = [];
      ws.on("unexpected-response", (_req, res) => {
        resolve({ status: res.statusCode });
        res.resume();
        ws.terminate();
      });
      const senderId = "hostile-client";
      ws.on("open", () => ws.send(cbor.encode({ type: "join", senderId, peerMetadata: {}, supportedProtocolVersions: ["1"] })));
      ws.on("message", (bytes) => {
        const message = cbor.decode(new Uint8Array(bytes));
        received.push(message.type);
        if (message.type !== "peer") return;
        const [, data] = Automerge.generateSyncMessage(Automerge.init(), Automerge.initSyncState());
        ws.send(cbor.encode({ type: "request", senderId, targetId: message.senderId, documentId, data }));
      });
      ws.on("close", (code, reason) => resolve({ received, close: [code, String(reason)] }));
      ws.on("error", () => {});
    }),
    "a session on a ticket to end",
  );
}

const s = (v) => new Automerge.ImmutableString(v);

/**
 * A PDSA cycle as docs/schema/ describes it, every field present as the product writes it:
 * `nic` writes a field's default where a document lacks it, and a client's concurrent value
 * for that field could then lose to it.
 */
export function pdsaCycle(objective) {
  return Automerge.change(Automerge.init(), (d) => {
    d.kind = s("pdsa_cycle");
    d.schema = new Automerge.Uint(1);
    d.change_idea_id = s("number-talks");
    d.cycle_number = new Automerge.Uint(1);
    d.previous_cycle_id = null;
    d.purpose = s("test");
    d.planned_start = s("2026-11-30");
    d.planned_end = null;
    d.plan = {
      objective,
      questions: [{ id: s("q1"), question: "How many finish?", prediction: "20 of 28", data_type: s("quantitative") }],
      who: "",
      what: "",
      when: "",
      where: "",
      population: "",
      data_collection: "",
    };
    d.do = { as_planned: null, what_happened: "", observations: [], adjustments: "" };
    d.study = { results: [], learning: "" };
    d.act = { decision: null, rationale: "", next_cycle_id: null };
    d.equity_pauses = [];
    d.equity_codes = [];
    d.voices = [s("students"), s("teachers")];
  });
}

/**
 * automerge-repo's own sync server: a Repo with the package's WebSocketServerAdapter on
 * `ws://127.0.0.1:PORT/automerge`, holding `docs` (documentId → Automerge document).
 */
export async function startReferenceServer(docs) {
  const http = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: http, path: "/automerge" });
  const repo = new Repo({ network: [new WebSocketServerAdapter(wss)], peerId: "reference-server" });
  for (const [docId, doc] of Object.entries(docs)) repo.import(Automerge.save(doc), { docId });
  await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
  const url = `ws://127.0.0.1:${http.address().port}/automerge`;
  const stop = async () => {
    repo.shutdown();
    wss.close();
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => http.close(resolve));
  };
  return { url, repo, stop };
}
