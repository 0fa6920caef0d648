// Feedback threads, as `nic feedback` keeps them: in the coaching log (`coaching_log`) of
// the discussed document's site — for a network-level document, the asker's own site's
// (a coach's: the network-level log) — created when there is none yet. The browser writes
// the same shapes with the same Automerge types, ids and change messages as the CLI, so
// `nic feedback show|inbox` see what the browser wrote and the browser sees the CLI's.

import { useEffect, useState } from "preact/hooks";
import { Automerge } from "@automerge/automerge-repo/slim";
import { DocKind, Role, Visibility, type DocumentMeta } from "../gen/nic/v1/common_pb";
import { createDocument } from "../create";
import { find, type Replica } from "../repo";
import type { Session } from "../session";
import { sv } from "../model";
import { useDocs, type Followed } from "./docs";

const str = (s: string) => new Automerge.ImmutableString(s);

/** A comment in a thread (schema: coaching_log Comment). */
export interface Comment {
  id: string;
  author?: string;
  role?: string;
  at_ms?: number;
  text?: string;
}

/** A feedback thread (schema: coaching_log Thread). */
export interface Thread {
  id: string;
  doc_id?: string;
  anchor?: string;
  feedback_requested?: boolean;
  resolved?: boolean;
  comments?: Comment[];
}

/** A coaching log's content. */
export interface CoachingLog {
  kind?: string;
  visits?: unknown[];
  threads?: Thread[];
}

/** A coaching log's catalogue entry. */
export interface LogMeta {
  docId: string;
  networkId: string;
  siteId: string;
  createdAtMs: number;
}

/** A thread with the log it lives in. */
export interface Located {
  thread: Thread;
  log: LogMeta;
  handle: Followed<CoachingLog>["handle"];
}

/** A fresh entry id as the CLI makes them: the prefix and 8 hex digits. */
export function freshId(prefix: string): string {
  const [n] = crypto.getRandomValues(new Uint32Array(1));
  return prefix + n.toString(16).padStart(8, "0");
}

/** The role word comments carry (as `nic`): `coach` for leads and hub admins. */
export function roleWord(s: Session): string {
  switch (s.role) {
    case Role.HUB_ADMIN:
    case Role.NETWORK_LEAD:
      return "coach";
    case Role.SITE_MEMBER:
      return "site_member";
    default:
      return "observer";
  }
}

/** The site whose log holds a thread about a document of `docSite` ("" = network-level). */
export function logSiteFor(s: Session, docSite: string): string {
  return docSite || (s.role === Role.SITE_MEMBER ? s.siteId : "");
}

const cacheKey = (s: Session, networkId: string) => `nic-hub.logs.${s.memberId}.${networkId}`;

function fromProto(m: DocumentMeta): LogMeta {
  return { docId: m.docId, networkId: m.networkId, siteId: m.siteId, createdAtMs: Number(m.createdAtMs) };
}

/** The network's coaching logs the member may read, oldest first (as `nic` orders them). */
export async function fetchLogs(s: Session, networkId: string): Promise<LogMeta[]> {
  const all: LogMeta[] = [];
  let pageToken = "";
  do {
    const page = await s.api.documents.list({ networkId, kind: DocKind.COACHING_LOG, pageSize: 1000, pageToken });
    all.push(...page.documents.map(fromProto));
    pageToken = page.nextPageToken;
  } while (pageToken);
  all.sort((a, b) => a.createdAtMs - b.createdAtMs || (a.docId < b.docId ? -1 : a.docId > b.docId ? 1 : 0));
  localStorage.setItem(cacheKey(s, networkId), JSON.stringify(all));
  return all;
}

function cachedLogs(s: Session, networkId: string): LogMeta[] | null {
  try {
    return JSON.parse(localStorage.getItem(cacheKey(s, networkId)) ?? "null") as LogMeta[] | null;
  } catch {
    return null;
  }
}

/** The network's coaching logs, followed live; `reload` asks the hub for the list again. */
export function useLogs(session: Session, replica: Replica, networkId: string) {
  const [metas, setMetas] = useState<LogMeta[] | null>(() => cachedLogs(session, networkId));
  const [error, setError] = useState<unknown>(null);
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    fetchLogs(session, networkId).then(
      (m) => live && (setMetas(m), setError(null)),
      (e: unknown) => live && (setError(e), setMetas((have) => have ?? cachedLogs(session, networkId))),
    );
    return () => {
      live = false;
    };
  }, [session, networkId, round]);
  const docs = useDocs<CoachingLog>(replica, (metas ?? []).map((m) => m.docId));
  const threads: Located[] = [];
  for (const log of metas ?? []) {
    const f = docs.get(log.docId);
    if (!f) continue;
    for (const thread of f.doc.threads ?? []) threads.push({ thread, log, handle: f.handle });
  }
  return { metas, threads, loaded: metas !== null && docs.size >= metas.length, error, reload: () => setRound((r) => r + 1) };
}

/** When a thread was asked (its first comment's time). */
export const askedAt = (t: Thread): number => Number(t.comments?.[0]?.at_ms ?? 0);

/** Open feedback requests, oldest first (as `nic feedback inbox`). */
export function openRequests(threads: Located[]): Located[] {
  return threads
    .filter((l) => l.thread.feedback_requested && !l.thread.resolved)
    .sort((a, b) => askedAt(a.thread) - askedAt(b.thread) || (sv(a.thread.id) < sv(b.thread.id) ? -1 : 1));
}

/** Who a thread waits on: the team once a coach wrote last, else the coach. */
export function waitingOn(t: Thread): "team" | "coach" {
  const last = t.comments?.[t.comments.length - 1];
  return last && sv(last.role) === "coach" ? "team" : "coach";
}

/** The content of a new, empty coaching log. */
export function writeNewLog(d: any) {
  d.kind = str("coaching_log");
  d.schema = new Automerge.Uint(1);
  d.visits = [];
  d.threads = [];
}

function pushComment(thread: any, s: Session, text: string) {
  thread.comments ??= [];
  thread.comments.push({});
  const c = thread.comments[thread.comments.length - 1];
  c.id = str(freshId("c"));
  c.author = str(s.memberId);
  c.role = str(roleWord(s));
  c.at_ms = Date.now();
  c.text = text;
}

/** The log of `site` (oldest if several), created empty when there is none (needs the hub). */
export async function logFor(s: Session, replica: Replica, networkId: string, site: string, metas: LogMeta[]): Promise<string> {
  const have = metas.find((m) => m.siteId === site);
  if (have) return have.docId;
  return createDocument(s, replica, {
    kind: DocKind.COACHING_LOG,
    networkId,
    siteId: site,
    visibility: site ? Visibility.SITE : Visibility.NETWORK,
    title: site ? `Coaching log — ${site}` : "Coaching log — network",
    write: writeNewLog,
  });
}

/** Asks for feedback on a document: a new thread in the right log. Returns its id. */
export async function requestFeedback(
  s: Session,
  replica: Replica,
  metas: LogMeta[],
  doc: { docId: string; networkId: string; siteId: string },
  text: string,
  anchor: string,
  message: string,
): Promise<string> {
  const logId = await logFor(s, replica, doc.networkId, logSiteFor(s, doc.siteId), metas);
  const handle = await find<CoachingLog>(replica, logId);
  const id = freshId("t");
  handle.change(
    (d: any) => {
      d.threads ??= [];
      d.threads.push({});
      const t = d.threads[d.threads.length - 1];
      t.id = str(id);
      t.doc_id = str(doc.docId);
      t.anchor = str(anchor);
      t.feedback_requested = true;
      t.resolved = false;
      t.comments = [];
      pushComment(t, s, text);
    },
    { message },
  );
  return id;
}

function threadIn(d: any, id: string): any {
  return (d.threads ?? []).find((t: any) => sv(t.id) === id);
}

/** Replies in a thread. */
export function reply(s: Session, located: Located, text: string, message: string) {
  located.handle.change(
    (d: any) => {
      const t = threadIn(d, sv(located.thread.id));
      if (t) pushComment(t, s, text);
    },
    { message },
  );
}

/** Marks a thread resolved. */
export function resolve(located: Located, message: string) {
  located.handle.change(
    (d: any) => {
      const t = threadIn(d, sv(located.thread.id));
      if (t) t.resolved = true;
    },
    { message },
  );
}
