// Feedback on a document: the threads about it (from the coaching logs the member may
// read), asking a coach for feedback, replying and resolving — written into the coaching
// logs exactly as `nic feedback` writes them (see `insight/feedback.ts`).

import { useEffect, useState } from "preact/hooks";
import { DocKind, Role } from "../gen/nic/v1/common_pb";
import { mayWrite, type Session } from "../session";
import type { Replica } from "../repo";
import type { Meta } from "../catalog";
import { memberNames } from "../people";
import { t, when } from "../i18n";
import { sv } from "../model";
import { href } from "../route";
import { errorText } from "../api";
import * as F from "../insight/feedback";
import type { Located } from "../insight/feedback";

/** Members' names of a network, for authors (ids until known). */
export function useNames(session: Session, networkId: string): Map<string, string> {
  const [names, setNames] = useState<Map<string, string>>(new Map());
  useEffect(() => {
    let live = true;
    memberNames(session, networkId).then((n) => live && setNames(n));
    return () => {
      live = false;
    };
  }, [session, networkId]);
  return names;
}

const ROLE_KEYS = { coach: "feedback.role_coach", site_member: "feedback.role_site_member", observer: "feedback.role_observer" } as const;

/** A comment author's role, for people. */
function roleName(role: string): string {
  const key = ROLE_KEYS[role as keyof typeof ROLE_KEYS];
  return key ? t(key) : role;
}

const ANCHORS = ["", "plan", "do", "study", "act"] as const;

/** Where in a document a thread points, for people. */
export function anchorName(anchor: string): string {
  if (!anchor) return t("feedback.anchor_whole");
  if ((ANCHORS as readonly string[]).includes(anchor)) return t(`feedback.anchor_${anchor}` as any);
  return anchor;
}

interface ThreadProps {
  session: Session;
  located: Located;
  names: Map<string, string>;
  /** The document it is about, linked (on the coaching page). */
  docLink?: { docId: string; title: string };
}

/** One thread: its comments, and a reply form and resolve button where the member may write. */
export function ThreadView({ session, located, names, docLink }: ThreadProps) {
  const { thread, log } = located;
  const id = sv(thread.id);
  const [text, setText] = useState("");
  const [said, setSaid] = useState("");
  const writable = session.role !== Role.OBSERVER && mayWrite(session, log);
  const resolved = !!thread.resolved;
  const comments = thread.comments ?? [];
  return (
    <article class={`thread ${resolved ? "thread-resolved" : "thread-open"}`} aria-labelledby={`th-${id}`} data-thread={id}>
      <h3 id={`th-${id}`}>
        {thread.feedback_requested ? t("feedback.request") : t("feedback.thread")}
        {docLink && (
          <>
            {" — "}
            <a href={href({ page: "doc", docId: docLink.docId })}>{docLink.title}</a>
          </>
        )}
      </h3>
      <p class="muted">
        <strong class={resolved ? "state-resolved" : "state-open"}>{resolved ? t("feedback.resolved") : t("feedback.open")}</strong>
        {" · "}
        {t("feedback.where", { where: anchorName(sv(thread.anchor)) })}
        {log.siteId && ` · ${t("doc.site", { site: log.siteId })}`}
        {!resolved && thread.feedback_requested && ` · ${t(F.waitingOn(thread) === "coach" ? "feedback.waiting_coach" : "feedback.waiting_team")}`}
      </p>
      <ol class="comments">
        {comments.map((c) => (
          <li key={sv(c.id)}>
            <p class="comment-by">
              <strong>{names.get(sv(c.author)) ?? (sv(c.author) || t("history.unknown_author"))}</strong> ({roleName(sv(c.role))}){" "}
              <span class="muted">{when(Number(c.at_ms ?? 0))}</span>
            </p>
            <p class="comment-text">{sv(c.text)}</p>
          </li>
        ))}
      </ol>
      {writable && !resolved && (
        <form
          class="reply"
          onSubmit={(e) => {
            e.preventDefault();
            if (!text.trim()) return setSaid(t("feedback.reply_empty"));
            F.reply(session, located, text.trim(), t("feedback.msg_reply"));
            setText("");
            setSaid(t("feedback.replied"));
          }}
        >
          <label for={`reply-${id}`}>{t("feedback.reply_label")}</label>
          <textarea id={`reply-${id}`} rows={2} value={text} onInput={(e) => setText(e.currentTarget.value)} />
          <div class="actions">
            <button type="submit">{t("feedback.reply")}</button>
            <button
              type="button"
              class="secondary"
              onClick={() => {
                F.resolve(located, t("feedback.msg_resolved"));
                setSaid(t("feedback.resolved_now"));
              }}
            >
              {t("feedback.resolve")}
            </button>
          </div>
        </form>
      )}
      <p role="status" class="said">
        {said}
      </p>
    </article>
  );
}

interface Props {
  session: Session;
  replica: Replica;
  meta: Meta;
}

/** The feedback panel of a document page. */
export function Feedback({ session, replica, meta }: Props) {
  const logs = F.useLogs(session, replica, meta.networkId);
  const names = useNames(session, meta.networkId);
  const [text, setText] = useState("");
  const [anchor, setAnchor] = useState("");
  const [busy, setBusy] = useState(false);
  const [said, setSaid] = useState<{ ok: boolean; text: string } | null>(null);
  const mine = logs.threads
    .filter((l) => sv(l.thread.doc_id) === meta.docId)
    .sort((a, b) => Number(!!a.thread.resolved) - Number(!!b.thread.resolved) || F.askedAt(a.thread) - F.askedAt(b.thread));
  const target = F.logSiteFor(session, meta.siteId);
  const mayAsk = session.role !== Role.OBSERVER && mayWrite(session, { networkId: meta.networkId, siteId: target });
  const ask = async (e: Event) => {
    e.preventDefault();
    if (!text.trim()) return setSaid({ ok: false, text: t("feedback.ask_empty") });
    setBusy(true);
    setSaid(null);
    try {
      await F.requestFeedback(session, replica, logs.metas ?? [], meta, text.trim(), anchor, t("feedback.msg_requested"));
      setText("");
      setAnchor("");
      setSaid({ ok: true, text: t("feedback.asked") });
      logs.reload();
    } catch (err) {
      setSaid({ ok: false, text: t("feedback.ask_failed", { why: errorText(err) }) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="feedback" aria-labelledby="feedback-h" data-testid="feedback">
      <h2 id="feedback-h">{t("feedback.title")}</h2>
      {logs.error && !logs.metas && <p>{t("feedback.offline")}</p>}
      {logs.metas && mine.length === 0 && <p>{t("feedback.none")}</p>}
      {mine.map((l) => (
        <ThreadView key={sv(l.thread.id)} session={session} located={l} names={names} />
      ))}
      {mayAsk ? (
        <form class="ask" onSubmit={ask}>
          <h3>{t("feedback.ask_title")}</h3>
          <div class="field">
            <label for="feedback-text">{t("feedback.ask_label")}</label>
            <textarea id="feedback-text" rows={3} value={text} onInput={(e) => setText(e.currentTarget.value)} />
          </div>
          {meta.kind === DocKind.PDSA_CYCLE && (
            <div class="field">
              <label for="feedback-anchor">{t("feedback.anchor_label")}</label>
              <select id="feedback-anchor" value={anchor} onChange={(e) => setAnchor(e.currentTarget.value)}>
                {ANCHORS.map((a) => (
                  <option key={a} value={a}>
                    {anchorName(a)}
                  </option>
                ))}
              </select>
            </div>
          )}
          <button type="submit" disabled={busy || !logs.metas}>
            {t("feedback.ask")}
          </button>
        </form>
      ) : (
        <p class="muted">{session.role === Role.OBSERVER ? t("feedback.observer") : t("feedback.not_your_site")}</p>
      )}
      <p role="status" class="said">
        {said?.ok ? said.text : ""}
      </p>
      {said && !said.ok && (
        <p role="alert" class="error">
          {said.text}
        </p>
      )}
    </section>
  );
}
