// The browser's replica: automerge-repo with IndexedDB storage (so documents open and take
// edits offline, and those edits sync on reconnect) and the hub's WebSocket endpoint. One
// IndexedDB database per member, so two people who share a browser keep separate copies.

import { DocHandle, Repo, initializeWasm, type AutomergeUrl, type PeerId } from "@automerge/automerge-repo/slim";
import { IndexedDBStorageAdapter } from "@automerge/automerge-repo-storage-indexeddb";
import { HubSocketAdapter } from "./hubsocket";
import type { Session } from "./session";

// Every change records its time in milliseconds, as the product's other clients do and as
// `Documents.History` reports it: Automerge's JavaScript library would write seconds.
type ChangeOptions = { message?: string; time?: number };
const change = DocHandle.prototype.change;
const changeAt = DocHandle.prototype.changeAt;
DocHandle.prototype.change = function (this: DocHandle<unknown>, callback: any, options: ChangeOptions = {}) {
  return change.call(this, callback, { time: Date.now(), ...options });
} as typeof change;
DocHandle.prototype.changeAt = function (this: DocHandle<unknown>, heads: any, callback: any, options: ChangeOptions = {}) {
  return changeAt.call(this, heads, callback, { time: Date.now(), ...options });
} as typeof changeAt;

let wasm: Promise<void> | null = null;

/** Loads Automerge's wasm (served beside the app) once. */
export function automergeReady(): Promise<void> {
  wasm ??= initializeWasm(new URL("automerge.wasm", document.baseURI).href);
  return wasm;
}

/** The replica of one session. */
export interface Replica {
  repo: Repo;
  socket: HubSocketAdapter;
  database: string;
}

/** The IndexedDB database that holds a member's documents on this device. */
export function databaseName(memberId: string): string {
  return `nic-hub.${memberId}`;
}

/** Opens the member's replica and starts syncing with the hub. */
export async function openReplica(session: Session): Promise<Replica> {
  await automergeReady();
  const socket = new HubSocketAdapter(async () => {
    const { ticket } = await session.api.directory.issueSocketTicket({});
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${location.host}/automerge?ticket=${encodeURIComponent(ticket)}`;
  });
  const database = databaseName(session.memberId);
  const repo = new Repo({
    storage: new IndexedDBStorageAdapter(database),
    network: [socket],
    // A random peer id per tab: the hub binds it to the member on first use.
    peerId: `web-${crypto.randomUUID()}` as PeerId,
  });
  return { repo, socket, database };
}

/** The automerge URL of a hub document id. */
export function urlOf(docId: string): AutomergeUrl {
  return `automerge:${docId}` as AutomergeUrl;
}

/** Finds a document, from this device's copy or the hub. */
export function find<T>(replica: Replica, docId: string): Promise<DocHandle<T>> {
  return replica.repo.find<T>(urlOf(docId));
}

/** Deletes this device's copy of a member's documents (on sign-out). */
export function forgetDevice(database: string): Promise<void> {
  return new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(database);
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
}
