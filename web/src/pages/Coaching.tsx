// Coaching feedback for a network: a coach's (network lead's) queue of open feedback
// requests across sites, oldest first, each linking to its document; a site member's view
// of their own site's threads; an observer reads what they may, without writing.

import { useEffect, useState } from "preact/hooks";
import { Role } from "../gen/nic/v1/common_pb";
import { leads, type Session } from "../session";
import type { Replica } from "../repo";
import { cachedCatalog, fetchCatalog, type Meta } from "../catalog";
import { t, when, kindName } from "../i18n";
import { href } from "../route";
import { sv } from "../model";
import { errorText } from "../api";
import * as F from "../insight/feedback";
import { ThreadView, useNames, anchorName } from "../components/Feedback";

interface Props {
  session: Session;
  replica: Replica;
  networkId: string;
}

/** The coaching page of a network. */
export function CoachingPage({ session, replica, networkId }: Props) {
  const logs = F.useLogs(session, replica, networkId);
  const names = useNames(session, networkId);
  const [docs, setDocs] = useState<Meta[] | null>(() => cachedCatalog(session, networkId));
  useEffect(() => {
    fetchCatalog(session, networkId).then(setDocs, () => {});
  }, [session, networkId]);
  const title = (docId: string) => {
    const m = docs?.find((d) => d.docId === docId);
    return m ? m.title || kindName(m.kind) : docId;
  };
  const coach = leads(session, networkId);
  const queue = F.openRequests(logs.threads);
  const ours = logs.threads
    .filter((l) => session.role !== Role.SITE_MEMBER || l.log.siteId === session.siteId)
    .sort((a, b) => Number(!!a.thread.resolved) - Number(!!b.thread.resolved) || F.askedAt(b.thread) - F.askedAt(a.thread));
  const who = (id: string) => names.get(id) ?? id;
  return (
    <div class="coaching">
      <p class="crumbs">
        <a href={href({ page: "network", networkId })}>{t("doc.back", { network: networkId })}</a>
      </p>
      <h1>{t("coaching.title", { network: networkId })}</h1>
      {session.role === Role.OBSERVER && <p class="notice">{t("coaching.observer")}</p>}
      {logs.error && !logs.metas && <p role="alert">{t("coaching.unavailable", { why: errorText(logs.error) })}</p>}
      {logs.error && logs.metas && <p class="notice">{t("home.offline_list")}</p>}
      {!logs.metas && !logs.error && <p role="status">{t("loading")}</p>}
      {coach && logs.metas && (
        <section aria-labelledby="queue-h">
          <h2 id="queue-h">{t("coaching.queue", { n: queue.length })}</h2>
          {queue.length === 0 ? (
            <p>{logs.loaded ? t("coaching.queue_empty") : t("loading")}</p>
          ) : (
            <div class="scroll" tabIndex={0} role="region" aria-labelledby="queue-h">
              <table data-testid="queue">
                <caption class="sr-only">{t("coaching.queue_caption")}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t("coaching.asked_at")}</th>
                    <th scope="col">{t("coaching.site")}</th>
                    <th scope="col">{t("coaching.doc")}</th>
                    <th scope="col">{t("coaching.anchor")}</th>
                    <th scope="col">{t("coaching.from")}</th>
                    <th scope="col">{t("coaching.asked")}</th>
                    <th scope="col">{t("coaching.comments")}</th>
                    <th scope="col">{t("coaching.waiting")}</th>
                  </tr>
                </thead>
                <tbody>
                  {queue.map(({ thread, log }) => {
                    const first = thread.comments?.[0];
                    return (
                      <tr key={sv(thread.id)} data-thread={sv(thread.id)}>
                        <td>{when(F.askedAt(thread))}</td>
                        <td>{log.siteId || t("doc.network_level")}</td>
                        <th scope="row">
                          <a href={href({ page: "doc", docId: sv(thread.doc_id) })}>{title(sv(thread.doc_id))}</a>
                        </th>
                        <td>{anchorName(sv(thread.anchor))}</td>
                        <td>{first ? who(sv(first.author)) : "—"}</td>
                        <td>{sv(first?.text)}</td>
                        <td>{thread.comments?.length ?? 0}</td>
                        <td>{t(F.waitingOn(thread) === "coach" ? "coaching.waiting_coach" : "coaching.waiting_team")}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </section>
      )}
      {logs.metas && (
        <section aria-labelledby="threads-h">
          <h2 id="threads-h">
            {session.role === Role.SITE_MEMBER ? t("coaching.site_threads", { site: session.siteId }) : t("coaching.all_threads")}
          </h2>
          {ours.length === 0 ? (
            <p>{logs.loaded ? t("coaching.threads_empty") : t("loading")}</p>
          ) : (
            ours.map((l) => (
              <ThreadView
                key={sv(l.thread.id)}
                session={session}
                located={l}
                names={names}
                docLink={{ docId: sv(l.thread.doc_id), title: title(sv(l.thread.doc_id)) }}
              />
            ))
          )}
        </section>
      )}
    </div>
  );
}
