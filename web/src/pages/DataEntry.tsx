// Entering measure data: a site's values for one period, group by group, or a CSV file laid
// out as `nic import measures` reads it. Rows are checked by the CLI's own rules
// (measures/validate.ts); if any row is bad nothing is written and each bad row is named
// with what is wrong. Good rows go into the site's measure_data document for the measure.

import { useEffect, useState } from "preact/hooks";
import { Role } from "../gen/nic/v1/common_pb";
import type { Session } from "../session";
import type { Replica } from "../repo";
import { useCall, useDoc } from "../hooks";
import { cachedCatalog, fetchCatalog, type Meta } from "../catalog";
import { DocKind } from "../gen/nic/v1/common_pb";
import { href } from "../route";
import { t } from "../i18n";
import { errorText } from "../api";
import { readDef, type MeasureDef } from "../measures/def";
import { checkCsv, checkRows, FileProblem, type Checked } from "../measures/validate";
import { writeRows } from "../measures/write";

interface Outcome {
  ok: boolean;
  lines: string[];
  head: string;
}

function Report({ outcome }: { outcome: Outcome | null }) {
  const body = outcome && (
    <>
      <p>{outcome.head}</p>
      {outcome.lines.length > 0 && (
        <ul>
          {outcome.lines.map((l) => (
            <li key={l}>{l}</li>
          ))}
        </ul>
      )}
    </>
  );
  // Both live regions are always there, so screen readers announce what lands in them.
  return (
    <>
      <div role="alert" class={outcome && !outcome.ok ? "error-box" : undefined} data-testid="entry-error">
        {outcome && !outcome.ok && body}
      </div>
      <div role="status" class={outcome?.ok ? "ok-box" : undefined} data-testid="entry-ok">
        {outcome?.ok && body}
      </div>
    </>
  );
}

interface Entry {
  numerator: string;
  denominator: string;
  value: string;
  n: string;
  note: string;
}
const EMPTY: Entry = { numerator: "", denominator: "", value: "", n: "", note: "" };

function Form({ session, replica, networkId, measureId, def, sites }: { session: Session; replica: Replica; networkId: string; measureId: string; def: MeasureDef; sites: string[] }) {
  const own = session.role === Role.SITE_MEMBER ? session.siteId : "";
  const [site, setSite] = useState(own || sites[0] || "");
  const [period, setPeriod] = useState("");
  const [extra, setExtra] = useState("");
  const seen = useCall(() => session.api.insight.measureSeries({ measureId }), [measureId]);
  const seenGroups = [...new Set((seen.value?.series ?? []).map((s) => s.group))].filter((g) => g !== "all").sort();
  const [added, setAdded] = useState<string[]>([]);
  const groups = ["all", ...seenGroups, ...added.filter((g) => !seenGroups.includes(g))];
  const [entries, setEntries] = useState<Record<string, Entry>>({});
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setEntries({}), [measureId]);
  const set = (g: string, k: keyof Entry, v: string) => setEntries((e) => ({ ...e, [g]: { ...(e[g] ?? EMPTY), [k]: v } }));
  const ratio = def.scoring === "proportion" || def.scoring === "ratio";
  const cols: (keyof Entry)[] = ratio ? ["numerator", "denominator", "n", "note"] : def.scoring === "count" ? ["numerator", "n", "note"] : ["value", "n", "note"];
  const submit = async (e: Event) => {
    e.preventDefault();
    const filled = groups.filter((g) => Object.values(entries[g] ?? EMPTY).some((v) => v.trim() !== ""));
    if (filled.length === 0) return setOutcome({ ok: false, head: t("entry.nothing"), lines: [] });
    const rows = filled.map((g) => {
      const en = entries[g];
      return { period: period.trim(), site, group: g, numerator: en.numerator.trim(), denominator: en.denominator.trim(), value: en.value.trim(), n: en.n.trim(), note: en.note.trim() };
    });
    const checked = checkRows(rows, def, new Set(sites), (k) => t("entry.row", { group: filled[k] }));
    await write(session, replica, networkId, measureId, def, checked, rows.length, setOutcome, setBusy);
  };
  const label = (k: keyof Entry) => t(`entry.${k}_${k === "numerator" && def.scoring === "count" ? "count" : "col"}` as any);
  return (
    <form onSubmit={submit} aria-labelledby="form-h">
      <h2 id="form-h">{t("entry.form_title")}</h2>
      <div class="row-fields">
        <div class="field">
          <label for="e-site">{t("entry.site")}</label>
          <select id="e-site" value={site} disabled={!!own} onChange={(e) => setSite(e.currentTarget.value)}>
            {(own ? [own] : sites).map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="e-period">{t("entry.period")}</label>
          <input id="e-period" value={period} placeholder="YYYY-MM-DD" aria-describedby="e-period-hint" onInput={(e) => setPeriod(e.currentTarget.value)} />
          <p class="hint" id="e-period-hint">
            {t("entry.period_hint")}
          </p>
        </div>
      </div>
      <div class="scroll" tabIndex={0} role="region" aria-labelledby="entry-cap">
        <table class="entry">
          <caption id="entry-cap">{t("entry.caption", { scoring: t(`measure.scoring.${def.scoring}` as any) })}</caption>
          <thead>
            <tr>
              <th scope="col">{t("entry.group")}</th>
              {cols.map((c) => (
                <th scope="col" key={c}>
                  {label(c)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {groups.map((g, i) => (
              <tr key={g}>
                <th scope="row" id={`g-${i}`}>
                  {g}
                </th>
                {cols.map((c) => (
                  <td key={c}>
                    <input
                      id={`e-${i}-${c}`}
                      name={`${g}:${c}`}
                      aria-label={`${g} ${label(c)}`}
                      inputMode={c === "note" ? undefined : "decimal"}
                      size={c === "note" ? 16 : 6}
                      value={(entries[g] ?? EMPTY)[c]}
                      onInput={(e) => set(g, c, e.currentTarget.value)}
                    />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div class="field inline-add">
        <label for="e-extra">{t("entry.add_group")}</label>
        <input id="e-extra" value={extra} placeholder={def.groupDimensions[0] ? `${def.groupDimensions[0]}=…` : "dimension=value"} onInput={(e) => setExtra(e.currentTarget.value)} />
        <button
          type="button"
          onClick={() => {
            const g = extra.trim();
            if (g && !groups.includes(g)) setAdded([...added, g]);
            setExtra("");
          }}
        >
          {t("entry.add")}
        </button>
      </div>
      <button type="submit" disabled={busy}>
        {t("entry.save")}
      </button>
      <Report outcome={outcome} />
    </form>
  );
}

async function write(
  session: Session,
  replica: Replica,
  networkId: string,
  measureId: string,
  def: MeasureDef,
  checked: Checked,
  total: number,
  setOutcome: (o: Outcome) => void,
  setBusy: (b: boolean) => void,
) {
  if (checked.bad.length > 0) {
    return setOutcome({ ok: false, head: t("entry.bad", { bad: checked.bad.length, total }), lines: checked.bad });
  }
  // Site members write only their own site's data (the hub refuses the rest anyway).
  if (session.role === Role.SITE_MEMBER) {
    const other = checked.good.find((r) => r.site !== session.siteId);
    if (other) return setOutcome({ ok: false, head: t("entry.not_your_site", { site: other.site, own: session.siteId }), lines: [] });
  }
  setBusy(true);
  try {
    const docs = await writeRows(session, replica, networkId, measureId, def.name, checked.good);
    setOutcome({ ok: true, head: t("entry.written", { n: checked.good.length, docs: docs.length }), lines: [] });
  } catch (err) {
    setOutcome({ ok: false, head: t("entry.failed", { why: errorText(err) }), lines: [] });
  } finally {
    setBusy(false);
  }
}

function Upload({ session, replica, networkId, measureId, def, sites }: { session: Session; replica: Replica; networkId: string; measureId: string; def: MeasureDef; sites: string[] }) {
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);
  const [file, setFile] = useState<File | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!file) return setOutcome({ ok: false, head: t("entry.no_file"), lines: [] });
    let checked: Checked;
    try {
      checked = checkCsv(await file.text(), def, new Set(sites), file.name);
    } catch (err) {
      if (err instanceof FileProblem) return setOutcome({ ok: false, head: t("entry.file_refused", { why: err.message }), lines: [] });
      throw err;
    }
    await write(session, replica, networkId, measureId, def, checked, checked.good.length + checked.bad.length, setOutcome, setBusy);
  };
  return (
    <form onSubmit={submit} aria-labelledby="upload-h">
      <h2 id="upload-h">{t("entry.upload_title")}</h2>
      <p>{t("entry.upload_intro")}</p>
      <pre class="layout">{t("entry.layout")}</pre>
      <div class="field">
        <label for="e-file">{t("entry.file")}</label>
        <input id="e-file" type="file" accept=".csv,text/csv" onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
      </div>
      <button type="submit" disabled={busy}>
        {t("entry.upload")}
      </button>
      <Report outcome={outcome} />
    </form>
  );
}

function ForMeasure({ session, replica, networkId, measureId, sites }: { session: Session; replica: Replica; networkId: string; measureId: string; sites: string[] }) {
  const { doc } = useDoc<any>(replica, measureId);
  if (!doc) return <p role="status">{t("loading")}</p>;
  const def = readDef(doc);
  return (
    <>
      <p class="muted">
        {t(`measure.scoring.${def.scoring}` as any)}
        {def.unit && ` · ${t("measure.unit_is", { unit: def.unit })}`} ·{" "}
        <a href={href({ page: "measure", measureId })}>{t("entry.see_chart")}</a>
      </p>
      <Form key={measureId} session={session} replica={replica} networkId={networkId} measureId={measureId} def={def} sites={sites} />
      <Upload key={`u-${measureId}`} session={session} replica={replica} networkId={networkId} measureId={measureId} def={def} sites={sites} />
    </>
  );
}

/** The data entry page (observers are told they cannot enter data). */
export function DataEntryPage({ session, replica, networkId }: { session: Session; replica: Replica; networkId: string }) {
  const [docs, setDocs] = useState<Meta[] | null>(() => cachedCatalog(session, networkId));
  const [listError, setListError] = useState("");
  useEffect(() => {
    if (session.role !== Role.OBSERVER) fetchCatalog(session, networkId).then(setDocs, (e) => setListError(errorText(e)));
  }, [networkId]);
  const sites = useCall(() => session.api.directory.listSites({ networkId }), [networkId]);
  const measures = (docs ?? []).filter((d) => d.kind === DocKind.MEASURE_DEFINITION);
  const [measureId, setMeasureId] = useState("");
  const chosen = measureId || measures[0]?.docId || "";
  const back = (
    <p class="crumbs">
      <a href={href({ page: "measures", networkId })}>{t("measure.back")}</a>
    </p>
  );
  if (session.role === Role.OBSERVER) {
    return (
      <section>
        {back}
        <h1>{t("entry.title")}</h1>
        <p role="alert">{t("entry.observer")}</p>
      </section>
    );
  }
  const siteIds = (sites.value?.sites ?? []).map((s) => s.siteId);
  return (
    <section aria-labelledby="entry-h" class="data-entry">
      {back}
      <h1 id="entry-h">{t("entry.title")}</h1>
      <p>{session.role === Role.SITE_MEMBER ? t("entry.intro_site", { site: session.siteId }) : t("entry.intro_lead")}</p>
      {listError && !docs && <p role="alert">{listError}</p>}
      {sites.error && <p role="alert">{errorText(sites.error)}</p>}
      {!docs || !sites.value ? (
        <p role="status">{t("loading")}</p>
      ) : measures.length === 0 ? (
        <p>{t("measures.none")}</p>
      ) : (
        <>
          <div class="field">
            <label for="e-measure">{t("entry.measure")}</label>
            <select id="e-measure" value={chosen} onChange={(e) => setMeasureId(e.currentTarget.value)}>
              {measures.map((m) => (
                <option key={m.docId} value={m.docId}>
                  {m.title || m.docId}
                </option>
              ))}
            </select>
          </div>
          <ForMeasure key={chosen} session={session} replica={replica} networkId={networkId} measureId={chosen} sites={siteIds} />
        </>
      )}
    </section>
  );
}
