// Starting one of a site's inquiry documents — an empathy interview, a root-cause
// analysis, an equity audit or an improvement plan: its site, who may read it, a title and
// its first fields. The content is written schema-correct here and given to the hub with
// `Documents.Create` (src/create.ts); the document's page then edits every field.

import { useState } from "preact/hooks";
import { useCall } from "../hooks";
import { DocKind, Role, Visibility } from "../gen/nic/v1/common_pb";
import type { Session } from "../session";
import type { Replica } from "../repo";
import { createDocument } from "../create";
import { href } from "../route";
import { t, kindName } from "../i18n";
import { errorText } from "../api";
import * as F from "../forms/model";
import { PrivacyNote, docOption, strings, useCatalog, useNetworkDoc } from "../forms/fields";

interface Props {
  session: Session;
  replica: Replica;
  networkId: string;
  kind: string;
}

/** The first words of a long text, for a title (as `nic` makes titles). */
function short(text: string): string {
  const s = text.trim().replace(/\s+/g, " ");
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

/** Today as `YYYY-MM-DD` in the viewer's zone. */
function today(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** The form that starts an inquiry document of `kind`. */
export function NewDocPage({ session, replica, networkId, kind }: Props) {
  const docKind = F.FORM_KINDS[kind];
  if (docKind === undefined) {
    return (
      <section>
        <h1>{t("notfound.title")}</h1>
        <p>{t("newdoc.unknown_kind", { kind })}</p>
        <a href={href({ page: "network", networkId })}>{t("doc.back", { network: networkId })}</a>
      </section>
    );
  }
  if (session.role === Role.OBSERVER) {
    return (
      <section>
        <h1>{t(`newdoc.title_${kind}` as any)}</h1>
        <p role="alert">{t("newdoc.observer")}</p>
        <a href={href({ page: "network", networkId })}>{t("doc.back", { network: networkId })}</a>
      </section>
    );
  }
  return <NewDocForm session={session} replica={replica} networkId={networkId} kind={kind} docKind={docKind} />;
}

function NewDocForm({ session, replica, networkId, kind, docKind }: Props & { docKind: DocKind }) {
  const sites = useCall(() => session.api.directory.listSites({ networkId }), [networkId]);
  const docs = useCatalog(session, networkId);
  const profile = useNetworkDoc(session, replica, networkId, DocKind.NETWORK_PROFILE);
  const ownSite = session.role === Role.SITE_MEMBER ? session.siteId : "";
  const [site, setSite] = useState(ownSite);
  const [visibility, setVisibility] = useState(F.defaultVisibility(docKind));
  const [title, setTitle] = useState("");
  // Interview
  const [role, setRole] = useState("");
  const [groups, setGroups] = useState<string[]>([]);
  const [date, setDate] = useState(today());
  // Root-cause analysis, improvement plan
  const [problem, setProblem] = useState("");
  const [categories, setCategories] = useState<string[]>(F.RCA_CATEGORIES.slice(0, 3));
  const [data, setData] = useState("");
  const [rca, setRca] = useState("");
  // Equity audit
  const [area, setArea] = useState("");
  const [sources, setSources] = useState("");
  const [trouble, setTrouble] = useState("");
  const [busy, setBusy] = useState(false);
  const isInterview = docKind === DocKind.EMPATHY_INTERVIEW;
  const groupChoices = [...new Set([...strings(profile?.equity_focus_groups), ...F.COMMON_GROUPS.filter((g) => g !== "all")])];
  const siteList = (sites.value?.sites ?? []).filter((s) => !ownSite || s.siteId === ownSite);

  /** What is missing, or "". */
  const missing = (): string => {
    if (!site) return t("newdoc.need_site");
    if (isInterview && !role) return t("newdoc.need_role");
    if ((docKind === DocKind.ROOT_CAUSE_ANALYSIS || docKind === DocKind.IMPROVEMENT_PLAN) && !problem.trim()) return t("newdoc.need_problem");
    if (docKind === DocKind.EQUITY_AUDIT && !area.trim()) return t("newdoc.need_area");
    return "";
  };
  const defaultTitle = (): string => {
    switch (docKind) {
      case DocKind.EMPATHY_INTERVIEW:
        return t("newdoc.interview_title", { role: role ? t(`interview.role_${role}` as any) : "", date });
      case DocKind.ROOT_CAUSE_ANALYSIS:
        return t("newdoc.rca_title", { problem: short(problem) });
      case DocKind.EQUITY_AUDIT:
        return t("newdoc.audit_title", { area: area.trim() });
      default:
        return t("newdoc.plan_title", { problem: short(problem) });
    }
  };
  const write = (d: any) => {
    switch (docKind) {
      case DocKind.EMPATHY_INTERVIEW:
        return F.writeInterview(d, { role, groups, date, interviewer: session.memberId });
      case DocKind.ROOT_CAUSE_ANALYSIS:
        return F.writeRca(d, { problem: problem.trim(), categories });
      case DocKind.EQUITY_AUDIT:
        return F.writeAudit(d, { area: area.trim(), sources });
      default:
        return F.writePlan(d, { problem: problem.trim(), data, rca });
    }
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    const why = missing();
    setTrouble(why);
    if (why) return;
    setBusy(true);
    try {
      const id = await createDocument(session, replica, {
        kind: docKind,
        networkId,
        siteId: site,
        visibility: isInterview ? Visibility.SITE : visibility,
        title: title.trim() || defaultTitle(),
        write,
      });
      location.hash = href({ page: "doc", docId: id });
    } catch (err) {
      setTrouble(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const toggle = (list: string[], set: (l: string[]) => void, v: string, on: boolean) => set(on ? [...list, v] : list.filter((x) => x !== v));

  return (
    <section aria-labelledby="newdoc-h" class="newdoc">
      <p class="crumbs">
        <a href={href({ page: "network", networkId })}>{t("doc.back", { network: networkId })}</a>
      </p>
      <h1 id="newdoc-h">{t(`newdoc.title_${kind}` as any)}</h1>
      <p>{t(`newdoc.intro_${kind}` as any)}</p>
      {(isInterview || docKind === DocKind.EQUITY_AUDIT || docKind === DocKind.ROOT_CAUSE_ANALYSIS) && <PrivacyNote interview={isInterview} />}
      <form onSubmit={submit} noValidate>
        <div class="field">
          <label for="site">{t("newdoc.site")}</label>
          <select id="site" value={site} disabled={!!ownSite} onChange={(e) => setSite(e.currentTarget.value)} aria-describedby="site-hint">
            {!ownSite && <option value="">{t("forms.choose")}</option>}
            {siteList.map((s) => (
              <option key={s.siteId} value={s.siteId}>
                {s.name || s.siteId}
              </option>
            ))}
            {ownSite && !siteList.some((s) => s.siteId === ownSite) && <option value={ownSite}>{ownSite}</option>}
          </select>
          <p class="hint" id="site-hint">
            {ownSite ? t("newdoc.site_own") : t("newdoc.site_hint")}
          </p>
        </div>
        {isInterview ? (
          <p class="notice" role="note" id="visibility-note">
            {t("newdoc.interview_visibility")}
          </p>
        ) : (
          <fieldset>
            <legend>{t("newdoc.visibility")}</legend>
            <label class="choice">
              <input type="radio" name="visibility" checked={visibility === Visibility.NETWORK} onChange={() => setVisibility(Visibility.NETWORK)} /> {t("newdoc.visibility_network")}
            </label>
            <label class="choice">
              <input type="radio" name="visibility" checked={visibility === Visibility.SITE} onChange={() => setVisibility(Visibility.SITE)} /> {t("newdoc.visibility_site")}
            </label>
          </fieldset>
        )}

        {isInterview && (
          <>
            <div class="field">
              <label for="interviewee-role">{t("interview.role")}</label>
              <p class="hint" id="interviewee-role-hint">
                {t("interview.role_hint")}
              </p>
              <select id="interviewee-role" value={role} aria-describedby="interviewee-role-hint" onChange={(e) => setRole(e.currentTarget.value)}>
                <option value="">{t("forms.choose")}</option>
                {F.INTERVIEWEE_ROLES.map((r) => (
                  <option key={r} value={r}>
                    {t(`interview.role_${r}` as any)}
                  </option>
                ))}
              </select>
            </div>
            <fieldset>
              <legend>{t("interview.groups")}</legend>
              <p class="hint">{t("newdoc.groups_hint")}</p>
              {groupChoices.map((g, i) => (
                <label class="choice" key={g}>
                  <input type="checkbox" id={`group-${i}`} checked={groups.includes(g)} onChange={(e) => toggle(groups, setGroups, g, e.currentTarget.checked)} /> {g}
                </label>
              ))}
            </fieldset>
            <div class="field">
              <label for="interview-date">{t("interview.date")}</label>
              <input id="interview-date" type="date" value={date} onInput={(e) => setDate(e.currentTarget.value)} />
            </div>
          </>
        )}

        {(docKind === DocKind.ROOT_CAUSE_ANALYSIS || docKind === DocKind.IMPROVEMENT_PLAN) && (
          <div class="field">
            <label for="problem">{t("rca.problem")}</label>
            <p class="hint" id="problem-hint">
              {t("rca.problem_hint")}
            </p>
            <textarea id="problem" rows={3} value={problem} aria-describedby="problem-hint" onInput={(e) => setProblem(e.currentTarget.value)} />
          </div>
        )}
        {docKind === DocKind.ROOT_CAUSE_ANALYSIS && (
          <fieldset>
            <legend>{t("newdoc.categories")}</legend>
            {F.RCA_CATEGORIES.map((c, i) => (
              <label class="choice" key={c}>
                <input type="checkbox" id={`category-${i}`} checked={categories.includes(c)} onChange={(e) => toggle(categories, setCategories, c, e.currentTarget.checked)} /> {c}
              </label>
            ))}
          </fieldset>
        )}
        {docKind === DocKind.IMPROVEMENT_PLAN && (
          <>
            <div class="field">
              <label for="data-summary">{t("plan.data")}</label>
              <textarea id="data-summary" rows={3} value={data} onInput={(e) => setData(e.currentTarget.value)} />
            </div>
            <div class="field">
              <label for="rca">{t("plan.rca")}</label>
              <select id="rca" value={rca} onChange={(e) => setRca(e.currentTarget.value)}>
                <option value="">{t("plan.rca_none")}</option>
                {docs
                  .filter((d) => d.kind === DocKind.ROOT_CAUSE_ANALYSIS)
                  .map((m) => (
                    <option key={m.docId} value={m.docId}>
                      {docOption(m).label}
                    </option>
                  ))}
              </select>
            </div>
          </>
        )}
        {docKind === DocKind.EQUITY_AUDIT && (
          <>
            <div class="field">
              <label for="area">{t("audit.area")}</label>
              <p class="hint" id="area-hint">
                {t("audit.area_hint")}
              </p>
              <input id="area" list="area-options" value={area} aria-describedby="area-hint" onInput={(e) => setArea(e.currentTarget.value)} />
              <datalist id="area-options">
                {F.AUDIT_AREAS.map((a) => (
                  <option key={a} value={a} />
                ))}
              </datalist>
            </div>
            <div class="field">
              <label for="sources">{t("audit.sources")}</label>
              <textarea id="sources" rows={3} value={sources} onInput={(e) => setSources(e.currentTarget.value)} />
            </div>
          </>
        )}

        <div class="field">
          <label for="title">{t("newdoc.doc_title")}</label>
          <p class="hint" id="title-hint">
            {t("newdoc.title_hint", { title: defaultTitle() })}
          </p>
          <input id="title" value={title} maxLength={200} aria-describedby="title-hint" onInput={(e) => setTitle(e.currentTarget.value)} />
        </div>
        <button type="submit" disabled={busy}>
          {t("newdoc.create", { kind: kindName(docKind).toLowerCase() })}
        </button>
        {trouble && (
          <p role="alert" class="error">
            {trouble}
          </p>
        )}
      </form>
    </section>
  );
}
