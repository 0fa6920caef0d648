// Who changed what: a document's changes as the hub recorded them (`Documents.History`:
// each change's author is the member its actor id is bound to, verified by the hub), newest
// first, with the change's message (the field it edited) and time in the viewer's zone.

import { useEffect, useState } from "preact/hooks";
import { useCall } from "../hooks";
import { memberNames } from "../people";
import { t, when } from "../i18n";
import type { Session } from "../session";

interface Props {
  session: Session;
  docId: string;
  networkId: string;
  /** Changes as the page last saw them, so the list follows edits. */
  version: string;
}

const SHOWN = 12;
const SETTLE_MS = 700;

/** The latest changes of a document and their authors. */
export function History({ session, docId, networkId, version }: Props) {
  // Asked again once edits pause, not on every keystroke.
  const [settled, setSettled] = useState(version);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(version), SETTLE_MS);
    return () => clearTimeout(timer);
  }, [version]);
  const history = useCall(async () => {
    const names = await memberNames(session, networkId);
    const entries = [];
    let pageToken = "";
    do {
      const page = await session.api.documents.history({ docId, pageSize: 1000, pageToken });
      entries.push(...page.entries);
      pageToken = page.nextPageToken;
    } while (pageToken);
    // Keystrokes are changes of their own: one person's run of the same edit is one line.
    const runs: { who: string; what: string; at: number; count: number }[] = [];
    for (const e of entries) {
      const who = names.get(e.memberId) ?? (e.memberId || t("history.unknown_author"));
      const what = e.message || t("history.no_message");
      const last = runs[runs.length - 1];
      if (last && last.who === who && last.what === what) {
        last.count++;
        last.at = Math.max(last.at, Number(e.timeMs));
      } else runs.push({ who, what, at: Number(e.timeMs), count: 1 });
    }
    return runs.slice(-SHOWN).reverse();
  }, [docId, settled]);
  return (
    <section class="history" aria-labelledby="history-title">
      <h2 id="history-title">{t("history.title")}</h2>
      {history.error ? (
        <p>{t("history.offline")}</p>
      ) : !history.value ? (
        <p>{t("loading")}</p>
      ) : history.value.length === 0 ? (
        <p>{t("history.none")}</p>
      ) : (
        <ol class="changes">
          {history.value.map((c, i) => (
            <li key={i}>
              <strong>{c.who}</strong> — {c.what}
              {c.count > 1 && ` ${t("history.times", { n: c.count })}`} <span class="muted">({when(c.at)})</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
