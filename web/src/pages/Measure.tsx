// One measure: its chart from the hub's Insight service (one site, or small multiples of
// every site), shown as an image, and beside it the chart's text alternative — the rules'
// findings in words and a table of every point, suppressed points named as suppressed with
// the hub's reason, never as a number. A focal group's gap to all students (or the best
// group) period by period.

import { useEffect, useState } from "preact/hooks";
import type { Session } from "../session";
import type { Replica } from "../repo";
import { useCall, useDoc } from "../hooks";
import { cachedMeta, fetchMeta, type Meta } from "../catalog";
import { GapReference, RuleSet, type Gap, type Series } from "../gen/nic/v1/insight_pb";
import { href } from "../route";
import { lang, t } from "../i18n";
import { errorText } from "../api";
import { readDef, ruleSetsFor } from "../measures/def";

const num = new Intl.NumberFormat(lang, { maximumFractionDigits: 2 });
const fmt = (v: number | undefined) => (v === undefined || v === null ? "" : num.format(v));

/** A standalone SVG as a data: URL (the SVG is never put into the page's DOM). */
function svgUrl(svg: string): string {
  let bin = "";
  for (const b of new TextEncoder().encode(svg)) bin += String.fromCharCode(b);
  return `data:image/svg+xml;base64,${btoa(bin)}`;
}

const WHOLE_SERIES = ["too_few_runs", "too_many_runs", "few_crossings"];

const groupName = (g: string) => (g === "all" || g === "" ? t("measure.group_all") : g);
const ruleName = (r: string) => t(`rule.${r}` as any);
const labelName = (l: string) => t(`signal.${l || "neutral"}` as any);

function Findings({ s }: { s: Series }) {
  const a = s.analysis;
  if (!a) return null;
  return (
    <div class="findings">
      <p>
        <strong>{t(`verdict.${a.verdict || "common_cause"}` as any)}</strong>
        {a.verdictDetail && ` — ${a.verdictDetail}`}
      </p>
      {a.centre !== undefined && <p>{t("measure.centre_is", { kind: t(`centre.${a.ruleSet || "ihi"}` as any), value: fmt(a.centre) })}</p>}
      {a.signals.length === 0 ? (
        <p>{t("measure.no_signals")}</p>
      ) : (
        <ul>
          {a.signals.map((g, i) => (
            <li key={i}>
              {t("measure.signal", {
                rule: ruleName(g.rule),
                label: labelName(g.label),
                periods: g.periods.length > 4 ? t("measure.period_range", { first: g.periods[0], last: g.periods[g.periods.length - 1], n: g.periods.length }) : g.periods.join(", "),
              })}
              {g.detail && ` ${g.detail}`}
            </li>
          ))}
        </ul>
      )}
      {a.warnings.length > 0 && (
        <ul class="muted">
          {a.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

function PointsTable({ s, id, open }: { s: Series; id: string; open: boolean }) {
  const a = s.analysis;
  const lines = a?.lines ?? [];
  const hasLimits = lines.some((l) => l.lower !== undefined || l.upper !== undefined);
  // Whole-series rules (runs, crossings) mark every point of their phase: the findings
  // above name them; the table names the rules that single points out.
  const signalsAt = (i: number) =>
    (a?.signals ?? [])
      .filter((g) => !WHOLE_SERIES.includes(g.rule) && g.points.includes(i))
      .map((g) => `${ruleName(g.rule)} (${labelName(g.label)})`)
      .join("; ");
  return (
    <details open={open}>
      <summary>{t("measure.points_summary", { n: s.points.length })}</summary>
      <div class="scroll" tabIndex={0} role="region" aria-labelledby={`${id}-cap`}>
        <table class="points">
          <caption id={`${id}-cap`}>{t("measure.points_caption", { site: s.siteId, group: groupName(s.group) })}</caption>
          <thead>
            <tr>
              <th scope="col">{t("measure.period")}</th>
              <th scope="col">{t("measure.value")}</th>
              <th scope="col">{t("measure.n")}</th>
              <th scope="col">{t("measure.centre")}</th>
              {hasLimits && <th scope="col">{t("measure.lower")}</th>}
              {hasLimits && <th scope="col">{t("measure.upper")}</th>}
              <th scope="col">{t("measure.signals")}</th>
            </tr>
          </thead>
          <tbody>
            {s.points.map((p, i) => {
              const l = lines[i];
              return (
                <tr key={p.period} class={p.suppressed ? "suppressed" : undefined}>
                  <th scope="row">{p.period}</th>
                  <td>{p.suppressed ? t("measure.suppressed", { why: p.suppressed }) : p.value === undefined ? t("measure.no_value") : fmt(p.value)}</td>
                  <td>{p.n === undefined ? "—" : p.n}</td>
                  <td>{l?.analysed ? fmt(l.centre) : ""}</td>
                  {hasLimits && <td>{l?.analysed ? fmt(l.lower) : ""}</td>}
                  {hasLimits && <td>{l?.analysed ? fmt(l.upper) : ""}</td>}
                  <td>{signalsAt(i)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </details>
  );
}

function GapTable({ g, id }: { g: Gap; id: string }) {
  return (
    <div class="scroll" tabIndex={0} role="region" aria-labelledby={`${id}-cap`}>
      <table>
        <caption id={`${id}-cap`}>
          {t("measure.gap_caption", { site: g.siteId, group: g.focalGroup, reference: t(`measure.ref_${g.reference || "all"}` as any) })}
          {g.closing !== undefined && ` — ${g.closing ? t("measure.gap_closing") : t("measure.gap_not_closing")}`}
        </caption>
        <thead>
          <tr>
            <th scope="col">{t("measure.period")}</th>
            <th scope="col">{t("measure.gap")}</th>
          </tr>
        </thead>
        <tbody>
          {g.points.map((p) => (
            <tr key={p.period}>
              <th scope="row">{p.period}</th>
              <td>{p.suppressed ? t("measure.suppressed", { why: p.suppressed }) : p.gap === undefined ? t("measure.no_value") : fmt(p.gap)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The measure's page. */
export function MeasurePage({ session, replica, measureId }: { session: Session; replica: Replica; measureId: string }) {
  const [meta, setMeta] = useState<Meta | null>(() => cachedMeta(session, measureId));
  const [metaError, setMetaError] = useState("");
  useEffect(() => {
    fetchMeta(session, measureId).then(setMeta, (e) => setMetaError(errorText(e)));
  }, [measureId]);
  const { doc } = useDoc<any>(replica, measureId);
  const def = doc ? readDef(doc) : null;
  const [rules, setRules] = useState<RuleSet>(RuleSet.IHI);
  const [site, setSite] = useState("");
  const [group, setGroup] = useState("all");
  const [focal, setFocal] = useState("");
  const [reference, setReference] = useState<GapReference>(GapReference.ALL);
  const sets = ruleSetsFor(def?.scoring ?? "");
  // Every group and site with data (one request, all groups), for the choices.
  const all = useCall(() => session.api.insight.measureSeries({ measureId, ruleSet: RuleSet.IHI }), [measureId]);
  // Each answer carries the choice it answers, so a stale one is never shown as the new.
  const choice = JSON.stringify([rules, site, group, focal, reference]);
  const seriesCall = useCall(
    async () => ({
      choice,
      r: await session.api.insight.measureSeries({ measureId, ruleSet: rules, group, focalGroup: focal, gapReference: focal ? reference : GapReference.UNSPECIFIED }),
    }),
    [measureId, choice],
  );
  const chartCall = useCall(async () => ({ choice, r: await session.api.insight.chart({ measureId, siteId: site, group: group === "all" ? "" : group, ruleSet: rules }) }), [measureId, choice]);
  const fresh = <T,>(c: { value?: { choice: string; r: T }; error?: unknown; loading: boolean }) => ({
    value: !c.loading && c.value?.choice === choice ? c.value.r : undefined,
    error: c.loading ? undefined : c.error,
  });
  const series = fresh(seriesCall);
  const chart = fresh(chartCall);
  const ready = !!(series.value || series.error) && !!(chart.value || chart.error);
  const sites = [...new Set((all.value?.series ?? []).map((s) => s.siteId))].sort();
  const groups = [...new Set((all.value?.series ?? []).map((s) => s.group))].sort((a, b) => (a === "all" ? -1 : b === "all" ? 1 : a.localeCompare(b)));
  const shown = (series.value?.series ?? []).filter((s) => !site || s.siteId === site);
  const gaps = (series.value?.gaps ?? []).filter((g) => !site || g.siteId === site);
  const name = def?.name || series.value?.name || meta?.title || measureId;
  const kind = sets.find((s) => s.id === rules)?.key ?? "ihi";
  const scope = site ? t("measure.scope_site", { site }) : t("measure.scope_all");
  if (metaError && !meta) {
    return (
      <section>
        <h1>{t("doc.unavailable")}</h1>
        <p role="alert">{metaError}</p>
      </section>
    );
  }
  return (
    <article class="measure" aria-labelledby="measure-h" data-ready={String(ready)} data-choice={choice}>
      {meta && (
        <p class="crumbs">
          <a href={href({ page: "measures", networkId: meta.networkId })}>{t("measure.back")}</a>
        </p>
      )}
      <h1 id="measure-h">{name}</h1>
      {def && (
        <p class="muted">
          {[t(`measure.type.${def.measureType}` as any), t(`measure.scoring.${def.scoring}` as any), def.unit && t("measure.unit_is", { unit: def.unit }), t(`measure.direction.${def.direction}` as any)]
            .filter(Boolean)
            .join(" · ")}{" "}
          · <a href={href({ page: "doc", docId: measureId })}>{t("measure.definition")}</a>
        </p>
      )}
      <form class="controls" onSubmit={(e) => e.preventDefault()} aria-label={t("measure.controls")}>
        <div class="field">
          <label for="m-rules">{t("measure.chart_kind")}</label>
          <select id="m-rules" value={String(rules)} onChange={(e) => setRules(Number(e.currentTarget.value) as RuleSet)}>
            {sets.map((s) => (
              <option key={s.key} value={String(s.id)}>
                {t(`chart.${s.key}` as any)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="m-site">{t("measure.site")}</label>
          <select id="m-site" value={site} onChange={(e) => setSite(e.currentTarget.value)}>
            <option value="">{t("measure.every_site")}</option>
            {sites.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="m-group">{t("measure.group")}</label>
          <select id="m-group" value={group} onChange={(e) => setGroup(e.currentTarget.value)}>
            {(groups.length ? groups : ["all"]).map((g) => (
              <option key={g} value={g}>
                {groupName(g)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="m-focal">{t("measure.focal")}</label>
          <select id="m-focal" value={focal} onChange={(e) => setFocal(e.currentTarget.value)}>
            <option value="">{t("measure.no_focal")}</option>
            {groups
              .filter((g) => g !== "all")
              .map((g) => (
                <option key={g} value={g}>
                  {g}
                </option>
              ))}
          </select>
        </div>
        {focal && (
          <div class="field">
            <label for="m-ref">{t("measure.reference")}</label>
            <select id="m-ref" value={String(reference)} onChange={(e) => setReference(Number(e.currentTarget.value) as GapReference)}>
              <option value={String(GapReference.ALL)}>{t("measure.ref_all")}</option>
              <option value={String(GapReference.BEST)}>{t("measure.ref_best")}</option>
            </select>
          </div>
        )}
      </form>
      <section aria-labelledby="chart-h">
        <h2 id="chart-h">{t("measure.chart_title", { kind: t(`chart.${kind}` as any), scope, group: groupName(group) })}</h2>
        {chart.error ? (
          <p role="alert">{t("measure.chart_unavailable", { why: errorText(chart.error) })}</p>
        ) : !chart.value ? (
          <p role="status">{t("loading")}</p>
        ) : (
          <img class={site ? "chart" : "chart multiples"} src={svgUrl(chart.value.svg)} alt={t("measure.chart_alt", { kind: t(`chart.${kind}` as any), name, scope, group: groupName(group) })} />
        )}
      </section>
      <section aria-labelledby="findings-h">
        <h2 id="findings-h">{t("measure.findings")}</h2>
        {series.error ? (
          <p role="alert">{t("measure.series_unavailable", { why: errorText(series.error) })}</p>
        ) : !series.value ? (
          <p role="status">{t("loading")}</p>
        ) : (
          <>
            <p class="muted">{t("measure.min_cell", { n: series.value.minCellSize })}</p>
            {series.value.target && (
              <p>
                {t("measure.target", { value: fmt(series.value.target.value), unit: series.value.target.unit, by: series.value.target.byWhen || "—" })}
              </p>
            )}
            {series.value.warnings.map((w) => (
              <p class="notice" key={w}>
                {w}
              </p>
            ))}
            {series.value.unusableDocuments.map((u) => (
              <p class="notice" key={u.docId}>
                {t("measure.unusable", { doc: u.docId, why: u.reason })}
              </p>
            ))}
            {shown.length === 0 && <p>{t("measure.no_series")}</p>}
            {shown.map((s, i) => (
              <section key={`${s.siteId}/${s.group}`} class="series" aria-labelledby={`series-${i}-h`}>
                <h3 id={`series-${i}-h`}>{t("measure.series_title", { site: s.siteId, group: groupName(s.group) })}</h3>
                <Findings s={s} />
                <PointsTable s={s} id={`series-${i}`} open={shown.length === 1} />
              </section>
            ))}
            {focal && (
              <section aria-labelledby="gaps-h">
                <h3 id="gaps-h">{t("measure.gaps", { group: focal })}</h3>
                {gaps.length === 0 ? <p>{t("measure.no_gaps")}</p> : gaps.map((g, i) => <GapTable key={g.siteId} g={g} id={`gap-${i}`} />)}
              </section>
            )}
          </>
        )}
      </section>
    </article>
  );
}
