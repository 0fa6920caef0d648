// Preact hooks over the replica: a document that re-renders on every change (local, from
// the hub, or from another tab), who else has it open, and one-off hub calls.

import { useEffect, useRef, useState } from "preact/hooks";
import type { DocHandle } from "@automerge/automerge-repo/slim";
import { find, type Replica } from "./repo";
import type { Session } from "./session";

/** A document as the page shows it. */
export interface DocState<T> {
  doc?: T;
  handle?: DocHandle<T>;
  error?: string;
}

/** Follows one document of the replica. */
export function useDoc<T>(replica: Replica, docId: string): DocState<T> {
  const [state, setState] = useState<DocState<T>>({});
  useEffect(() => {
    let live = true;
    let handle: DocHandle<T> | undefined;
    const onChange = () => live && handle && setState({ handle, doc: handle.doc() });
    setState({});
    find<T>(replica, docId).then(
      (h) => {
        handle = h;
        h.on("change", onChange);
        onChange();
      },
      (e: unknown) => live && setState({ error: e instanceof Error ? e.message : String(e) }),
    );
    return () => {
      live = false;
      handle?.off("change", onChange);
    };
  }, [replica, docId]);
  return state;
}

/** Someone else looking at the same document, as their last heartbeat said. */
export interface Viewer {
  memberId: string;
  name: string;
  seenAt: number;
}

const HEARTBEAT_MS = 3000;
const GONE_AFTER_MS = 10_000;

/**
 * Who else has the document open: each page broadcasts an ephemeral heartbeat (the hub
 * relays it only to others who may read the document, never stores it) and forgets a
 * viewer whose heartbeats stop.
 */
export function usePresence(session: Session, handle?: DocHandle<unknown>): Viewer[] {
  const [viewers, setViewers] = useState<Viewer[]>([]);
  const seen = useRef(new Map<string, Viewer>());
  useEffect(() => {
    if (!handle) return;
    const tab = crypto.randomUUID();
    const beat = () =>
      handle.broadcast({ type: "nic-presence", tab, memberId: session.memberId, name: session.displayName });
    const prune = () => {
      const now = Date.now();
      for (const [k, v] of seen.current) if (now - v.seenAt > GONE_AFTER_MS) seen.current.delete(k);
      setViewers([...seen.current.values()].sort((a, b) => a.name.localeCompare(b.name)));
    };
    const onMessage = ({ message }: { message: unknown }) => {
      const m = message as { type?: string; tab?: string; memberId?: string; name?: string };
      if (m?.type !== "nic-presence" || typeof m.tab !== "string" || m.tab === tab) return;
      const isNew = !seen.current.has(m.tab);
      seen.current.set(m.tab, { memberId: String(m.memberId ?? ""), name: String(m.name ?? "").slice(0, 200), seenAt: Date.now() });
      prune();
      if (isNew) beat();
    };
    handle.on("ephemeral-message", onMessage);
    beat();
    const timer = setInterval(() => {
      beat();
      prune();
    }, HEARTBEAT_MS);
    return () => {
      clearInterval(timer);
      handle.off("ephemeral-message", onMessage);
      seen.current.clear();
    };
  }, [handle, session]);
  return viewers;
}

/** The result of a hub call, redone when `deps` change. */
export function useCall<T>(call: () => Promise<T>, deps: unknown[]): { value?: T; error?: unknown; loading: boolean } {
  const [state, setState] = useState<{ value?: T; error?: unknown; loading: boolean }>({ loading: true });
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    call().then(
      (value) => live && setState({ value, loading: false }),
      (error: unknown) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, deps);
  return state;
}

/** Whether every change to the document is in this device's storage yet. */
export function useSavedLocally(replica: Replica, handle?: DocHandle<unknown>): boolean {
  const [saved, setSaved] = useState(true);
  useEffect(() => {
    if (!handle) return;
    let live = true;
    let round = 0;
    const onChange = () => {
      const mine = ++round;
      setSaved(false);
      void replica.repo.flush([handle.documentId]).then(() => live && mine === round && setSaved(true));
    };
    handle.on("change", onChange);
    return () => {
      live = false;
      handle.off("change", onChange);
    };
  }, [replica, handle]);
  return saved;
}

/**
 * A hub call whose last answer is kept on this device (`localStorage`, under `key`): the
 * page draws the kept answer at once — offline too — and the fresh one when it comes.
 * For answers that are plain data (no 64-bit integers).
 */
export function useKeptCall<T>(key: string, call: () => Promise<T>, deps: unknown[]): { value?: T; error?: unknown; loading: boolean } {
  const kept = () => {
    try {
      const text = localStorage.getItem(key);
      return text ? (JSON.parse(text) as T) : undefined;
    } catch {
      return undefined;
    }
  };
  const fresh = useCall(async () => {
    const value = await call();
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch {
      // A full storage only costs the next visit its head start.
    }
    return value;
  }, deps);
  return fresh.value !== undefined ? fresh : { ...fresh, value: kept() };
}
