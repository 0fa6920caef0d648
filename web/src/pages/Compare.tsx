// One change idea's cycles across the network's sites (Insight.CompareCycles): each site's
// ramp in order — cycle number, dates, predictions beside results, learning, decision —
// with the site's status, decisions and days to adoption; side by side on a wide screen,
// stacked on a phone. Each cycle links to its worksheet.

import type { Session } from "../session";
import { useCall } from "../hooks";
import { t, kindName } from "../i18n";
import { href } from "../route";
import { errorText } from "../api";
import type { DecisionCounts, SiteRamp, CycleSummary } from "../gen/nic/v1/insight_pb";

interface Props {
  session: Session;
  networkId: string;
  idea: string;
}

/** "2 adopt, 4 adapt, 1 abandon, 1 open". */
export function decisionText(d?: DecisionCounts): string {
  return t("home.decision_counts", { adopt: d?.adopt ?? 0, adapt: d?.adapt ?? 0, abandon: d?.abandon ?? 0, open: d?.open ?? 0 });
}

/** A decision or status word, for people. */
function decisionName(d: string): string {
  return d ? t(`compare.decision_${d}` as any) : t("compare.decision_open");
}

function siteName(site: string): string {
  return site === "network" ? t("compare.network_level") : site;
}

function Cycle({ c, site }: { c: CycleSummary; site: string }) {
  const label = t("compare.cycle", { n: c.number });
  const hid = `c-${c.docId}`;
  return (
    <li class="cycle-card" data-cycle={c.number} aria-labelledby={hid}>
      <h3 id={hid}>
        <a href={href({ page: "doc", docId: c.docId })}>{label}</a>
      </h3>
      <p class="muted">
        {c.plannedStart || c.plannedEnd
          ? t("compare.dates", { start: c.plannedStart || "?", end: c.plannedEnd || "?" })
          : t("compare.no_dates")}
      </p>
      {c.predictions.length === 0 ? (
        <p>{t("compare.no_predictions")}</p>
      ) : (
        <table class="predictions">
          <caption class="sr-only">{t("compare.predictions_caption", { cycle: label, site: siteName(site) })}</caption>
          <thead>
            <tr>
              <th scope="col">{t("compare.question")}</th>
              <th scope="col">{t("compare.predicted")}</th>
              <th scope="col">{t("compare.found")}</th>
            </tr>
          </thead>
          <tbody>
            {c.predictions.map((p, i) => (
              <tr key={i}>
                <th scope="row">{p.question || "—"}</th>
                <td>{p.prediction || "—"}</td>
                <td>{p.result || t("compare.no_result")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p>
        <strong>{t("compare.learning")}:</strong> {c.learning || t("compare.no_learning")}
      </p>
      <p data-testid="decision">
        <strong>{t("compare.decision")}:</strong> <span class={`decision decision-${c.decision || "open"}`}>{decisionName(c.decision)}</span>
      </p>
    </li>
  );
}

function Ramp({ r }: { r: SiteRamp }) {
  const hid = `site-${r.siteId}`;
  return (
    <section class="ramp" aria-labelledby={hid} data-site={r.siteId}>
      <h2 id={hid}>{siteName(r.siteId)}</h2>
      <dl class="ramp-facts">
        <div>
          <dt>{t("compare.status")}</dt>
          <dd class={`status status-${r.status}`} data-testid="status">
            {r.status ? t(`status.${r.status}` as any) : "—"}
          </dd>
        </div>
        <div>
          <dt>{t("compare.decisions")}</dt>
          <dd>{decisionText(r.decisions)}</dd>
        </div>
        <div>
          <dt>{t("compare.days")}</dt>
          <dd data-testid="days">{r.daysToAdoption !== undefined ? t("compare.days_n", { n: Number(r.daysToAdoption) }) : t("compare.days_none")}</dd>
        </div>
      </dl>
      <ol class="cycles" aria-label={t("compare.ramp_label", { site: siteName(r.siteId) })}>
        {r.cycles.map((c) => (
          <Cycle key={c.docId} c={c} site={r.siteId} />
        ))}
      </ol>
    </section>
  );
}

/** The comparison page. */
export function ComparePage({ session, networkId, idea }: Props) {
  const compared = useCall(() => session.api.insight.compareCycles({ networkId, changeIdea: idea }), [networkId, idea]);
  const overview = useCall(() => session.api.insight.networkOverview({ networkId }), [networkId]);
  const title = overview.value?.changeIdeas.find((c) => c.changeIdea === idea)?.title || idea;
  const v = compared.value;
  return (
    <div class="compare wide">
      <p class="crumbs">
        <a href={href({ page: "network", networkId })}>{t("doc.back", { network: networkId })}</a>
      </p>
      <h1>{t("compare.title", { idea: title })}</h1>
      {compared.error ? (
        <p role="alert">{t("compare.unavailable", { why: errorText(compared.error) })}</p>
      ) : !v ? (
        <p role="status">{t("loading")}</p>
      ) : (
        <>
          <p data-testid="network-decisions">
            {t("compare.summary", { idea: v.changeIdea, decisions: decisionText(v.decisions), n: v.sites.length })}
          </p>
          {v.sites.length === 0 ? <p>{t("compare.none")}</p> : (
            <div class="ramps">
              {v.sites.map((r) => (
                <Ramp key={r.siteId} r={r} />
              ))}
            </div>
          )}
          {v.unusableDocuments.length > 0 && (
            <section aria-labelledby="unusable-h">
              <h2 id="unusable-h">{t("compare.unusable")}</h2>
              <ul>
                {v.unusableDocuments.map((u) => (
                  <li key={u.docId}>
                    <a href={href({ page: "doc", docId: u.docId })}>{u.docId}</a> ({kindName(u.kind)}): {u.reason}
                  </li>
                ))}
              </ul>
            </section>
          )}
        </>
      )}
    </div>
  );
}
