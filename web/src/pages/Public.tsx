// The public family and community dashboard of a network (no sign-in): what the network
// works toward, what its schools are trying, and each measure for all schools together, as
// a small chart and the same numbers in a table. Everything comes from the hub's public
// JSON, which holds only values that pass the network's privacy rules.

import { useEffect, useState } from "preact/hooks";
import { lang, t } from "../i18n";
import { LineChart } from "../public/chart";
import { dashboardUrl, type Dashboard, type PublicMeasure, type PublicPoint } from "../public/types";

type State = { kind: "loading" } | { kind: "missing" } | { kind: "error" } | { kind: "ok"; dashboard: Dashboard };

const number = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
const dateFormat = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeZone: "UTC" });
const shortDate = new Intl.DateTimeFormat(lang, { month: "short", day: "numeric", timeZone: "UTC" });

/** A period for people: a date when it is one, else as written (`short`: without the year). */
export function periodText(period: string, short = false): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(period);
  if (!m) return period;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return Number.isNaN(d.getTime()) ? period : (short ? shortDate : dateFormat).format(d);
}

/** A value with its unit. */
function valueText(m: PublicMeasure, v: number): string {
  const unit = m.unit.trim();
  if (unit === "%") return `${number.format(v)}%`;
  return unit ? `${number.format(v)} ${unit}` : number.format(v);
}

/** A group for people: "english_learner=yes" → "English learner: yes". */
function groupText(group: string): string {
  if (group === "all") return t("public.all");
  const [dim, value = ""] = group.split("=");
  const words = dim.replace(/_/g, " ");
  return t("public.group", { dimension: words.charAt(0).toUpperCase() + words.slice(1), value: value.replace(/_/g, " ") });
}

function schools(n: number): string {
  return n === 1 ? t("public.school") : t("public.schools", { n });
}

function findings(m: PublicMeasure): string {
  const all = m.series.find((s) => s.group === "all");
  const shown = (all?.points ?? []).filter((p) => !p.withheld && p.value !== null);
  if (shown.length === 0) return t("public.findings_none");
  const first = shown[0];
  const last = shown[shown.length - 1];
  if (shown.length === 1) return t("public.findings_one", { measure: m.name, value: valueText(m, first.value as number), period: periodText(first.period) });
  return t("public.findings", {
    measure: m.name,
    first: valueText(m, first.value as number),
    from: periodText(first.period),
    last: valueText(m, last.value as number),
    to: periodText(last.period),
  });
}

function Cell({ m, p, group }: { m: PublicMeasure; p?: PublicPoint; group: string }) {
  if (!p) return <td data-group={group}>—</td>;
  if (p.withheld) {
    return (
      <td class="pub-hidden" data-group={group} data-period={p.period} data-withheld="true">
        {t("public.hidden")}
      </td>
    );
  }
  if (p.value === null) return <td data-group={group} data-period={p.period}>{t("public.no_value")}</td>;
  return (
    <td data-group={group} data-period={p.period} data-value={String(p.value)} data-n={String(p.n ?? "")}>
      {t("public.students", { value: valueText(m, p.value), n: number.format(p.n ?? 0) })}
    </td>
  );
}

function Measure({ m, index }: { m: PublicMeasure; index: number }) {
  const periods = [...new Set(m.series.flatMap((s) => s.points.map((p) => p.period)))].sort();
  const all = m.series.find((s) => s.group === "all");
  // Groups withheld in every period are named in a sentence rather than a column of gaps.
  const never = m.series.filter((s) => s.points.every((p) => p.withheld));
  const columns = m.series.filter((s) => !never.includes(s));
  const gaps = all?.points.some((p) => p.withheld) ?? false;
  const found = findings(m);
  const id = `pub-m${index}`;
  return (
    <section class="pub-measure" aria-labelledby={id}>
      <h3 id={id}>{m.name}</h3>
      <p>
        {m.direction === "down" ? t("public.lower") : t("public.higher")} {found}
      </p>
      {all && (
        <LineChart
          label={t("public.chart_label", { measure: m.name, findings: found })}
          format={(v) => valueText(m, v)}
          points={periods.map((period) => {
            const p = all.points.find((x) => x.period === period);
            return { label: periodText(period, true), value: p && !p.withheld ? p.value : null };
          })}
        />
      )}
      {gaps && <p class="muted">{t("public.chart_gaps")}</p>}
      {never.length > 0 && <p>{t("public.never", { groups: never.map((s) => groupText(s.group)).join("; ") })}</p>}
      <div class="scroll" tabIndex={0} role="region" aria-labelledby={`${id}-c`}>
        <table class="pub-table" data-measure={m.name}>
          <caption id={`${id}-c`}>{t("public.table_caption", { measure: m.name })}</caption>
          <thead>
            <tr>
              <th scope="col">{t("public.period")}</th>
              {columns.map((s) => (
                <th scope="col" key={s.group}>
                  {groupText(s.group)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {periods.map((period) => (
              <tr key={period}>
                <th scope="row">{periodText(period)}</th>
                {columns.map((s) => (
                  <Cell key={s.group} m={m} group={s.group} p={s.points.find((p) => p.period === period)} />
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** The public family and community dashboard of a network (no sign-in). */
export function PublicPage({ networkId }: { networkId: string }) {
  const [state, setState] = useState<State>({ kind: "loading" });
  useEffect(() => {
    let live = true;
    setState({ kind: "loading" });
    fetch(dashboardUrl(networkId), { credentials: "omit", cache: "no-store" })
      .then(async (r) => {
        if (!live) return;
        if (r.status === 404) return setState({ kind: "missing" });
        if (!r.ok) return setState({ kind: "error" });
        const dashboard = (await r.json()) as Dashboard;
        if (live) setState({ kind: "ok", dashboard });
      })
      .catch(() => live && setState({ kind: "error" }));
    return () => {
      live = false;
    };
  }, [networkId]);
  useEffect(() => {
    if (state.kind === "ok") document.title = state.dashboard.name;
  }, [state]);
  if (state.kind === "loading") return <p role="status">{t("public.loading")}</p>;
  if (state.kind === "missing") return <p role="alert">{t("public.missing")}</p>;
  if (state.kind === "error") return <p role="alert">{t("public.error")}</p>;
  const d = state.dashboard;
  return (
    <article class="public">
      <p class="pub-kicker">{t("public.kicker")}</p>
      <h1>{d.name}</h1>
      {d.description && <p class="pub-lead">{d.description}</p>}
      <p>{t("public.intro")}</p>
      <section aria-labelledby="pub-aim">
        <h2 id="pub-aim">{t("public.aim")}</h2>
        {d.aims.length === 0 ? (
          <p>{t("public.aim_none")}</p>
        ) : (
          d.aims.map((a) => (
            <p class="aim" key={a}>
              {a}
            </p>
          ))
        )}
      </section>
      <section aria-labelledby="pub-ideas">
        <h2 id="pub-ideas">{t("public.ideas")}</h2>
        <p>{t("public.ideas_intro")}</p>
        {d.change_ideas.length === 0 ? (
          <p>{t("public.ideas_none")}</p>
        ) : (
          <>
            <ul>
              {d.change_ideas.map((i) => (
                <li key={i.title}>
                  {i.testing + i.adopted + i.adapted + i.abandoned === 0 ? t("public.idea_untried", { title: i.title }) : t("public.idea_sentence", {
                    title: i.title,
                    testing: schools(i.testing),
                    adopted: schools(i.adopted),
                    adapted: schools(i.adapted),
                    abandoned: schools(i.abandoned),
                  })}
                </li>
              ))}
            </ul>
            <div class="scroll" tabIndex={0} role="region" aria-labelledby="pub-ideas-c">
              <table class="pub-ideas">
                <caption id="pub-ideas-c">{t("public.ideas_caption")}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t("public.idea")}</th>
                    <th scope="col">{t("public.testing")}</th>
                    <th scope="col">{t("public.adopted")}</th>
                    <th scope="col">{t("public.adapted")}</th>
                    <th scope="col">{t("public.abandoned")}</th>
                  </tr>
                </thead>
                <tbody>
                  {d.change_ideas.map((i) => (
                    <tr key={i.title}>
                      <th scope="row">{i.title}</th>
                      <td>{i.testing}</td>
                      <td>{i.adopted}</td>
                      <td>{i.adapted}</td>
                      <td>{i.abandoned}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </section>
      <section aria-labelledby="pub-measures">
        <h2 id="pub-measures">{t("public.measures")}</h2>
        <p class="notice">{t("public.privacy", { min: d.min_cell_size })}</p>
        {d.measures.length === 0 ? <p>{t("public.measures_none")}</p> : d.measures.map((m, i) => <Measure key={m.name} m={m} index={i} />)}
      </section>
      <p class="muted">{t("public.footer")}</p>
    </article>
  );
}
