// A school improvement plan: the problem of practice and the data that frames it, the
// root-cause analysis it rests on, the site's aims, the driver diagram boxes it works on
// and the PDSA cycles it commits to — each link chosen from the network's documents of
// the right kind (a link this member cannot follow stays listed as such).

import type { DocHandle } from "@automerge/automerge-repo/slim";
import { CollabText, textAt } from "../../components/CollabText";
import type { Meta } from "../../catalog";
import type { Session } from "../../session";
import type { Replica } from "../../repo";
import { DocKind } from "../../gen/nic/v1/common_pb";
import { t } from "../../i18n";
import { href } from "../../route";
import { sv } from "../../model";
import * as F from "../../forms/model";
import { Checklist, docOption, strings, useCatalog, useNetworkDoc } from "../../forms/fields";

interface Props {
  session: Session;
  replica: Replica;
  meta: Meta;
  handle: DocHandle<any>;
  doc: any;
  readOnly: boolean;
}

/** The site's own documents first, then the rest, each group newest first. */
function ownFirst(docs: Meta[], siteId: string): Meta[] {
  return [...docs].sort((a, b) => Number(b.siteId === siteId) - Number(a.siteId === siteId) || b.updatedAtMs - a.updatedAtMs);
}

/** The plan's editor. */
export function ImprovementPlanForm({ session, replica, meta, handle, doc, readOnly }: Props) {
  const change = (message: string, f: (d: any) => void) => handle.change(f, { message });
  const docs = useCatalog(session, meta.networkId);
  const diagram = useNetworkDoc(session, replica, meta.networkId, DocKind.DRIVER_DIAGRAM);
  const of = (kind: DocKind) => ownFirst(docs.filter((d) => d.kind === kind), meta.siteId);
  const rcas = of(DocKind.ROOT_CAUSE_ANALYSIS);
  const rca = sv(doc.root_cause_analysis_id);
  const nodes: any[] = (diagram?.nodes ?? []).filter((n: any) => sv(n.level) !== "aim");
  const toggle = (field: string, label: string) => (value: string, on: boolean) =>
    change(t(on ? "forms.added" : "forms.removed", { field: label }), (d) => (on ? F.addString(d, [field], value) : F.removeString(d, [field], value)));
  return (
    <div class="form-doc plan">
      <section aria-labelledby="problem-h">
        <h2 id="problem-h">{t("plan.problem_h")}</h2>
        <CollabText id="problem" handle={handle} doc={doc} path={["problem"]} label={t("plan.problem")} message={t("forms.changed", { field: t("plan.problem") })} readOnly={readOnly} />
        <CollabText id="data-summary" handle={handle} doc={doc} path={["data_summary"]} label={t("plan.data")} hint={t("plan.data_hint")} message={t("forms.changed", { field: t("plan.data") })} readOnly={readOnly} rows={4} />
      </section>
      <section aria-labelledby="links-h">
        <h2 id="links-h">{t("plan.links_h")}</h2>
        <p class="hint">{t("plan.links_hint")}</p>
        <div class="field">
          <label for="rca">{t("plan.rca")}</label>
          <select
            id="rca"
            value={rca}
            disabled={readOnly}
            onChange={(e) => change(t("forms.changed", { field: t("plan.rca") }), (d) => F.setString(d, ["root_cause_analysis_id"], e.currentTarget.value, true))}
          >
            <option value="">{t("plan.rca_none")}</option>
            {rcas.map((m) => (
              <option key={m.docId} value={m.docId}>
                {docOption(m).label}
              </option>
            ))}
            {rca && !rcas.some((m) => m.docId === rca) && <option value={rca}>{t("forms.unknown_link", { id: rca })}</option>}
          </select>
          {rca && (
            <p>
              <a href={href({ page: "doc", docId: rca })}>{t("plan.open_rca")}</a>
            </p>
          )}
          {!rca && <p class="hint">{t("plan.rca_missing")}</p>}
        </div>
        <Checklist
          id="aims"
          legend={t("plan.aims")}
          hint={strings(doc.aim_ids).length ? undefined : t("plan.aims_missing")}
          options={of(DocKind.AIM).map(docOption)}
          selected={strings(doc.aim_ids)}
          readOnly={readOnly}
          empty={t("plan.no_aims")}
          onToggle={toggle("aim_ids", t("plan.aims"))}
        />
        <Checklist
          id="drivers"
          legend={t("plan.drivers")}
          options={nodes.map((n) => ({ value: sv(n.id), label: `${t(`level.${sv(n.level) || "primary"}` as any)}: ${textAt(n, ["text"]) || sv(n.id)}` }))}
          selected={strings(doc.driver_ids)}
          readOnly={readOnly}
          empty={t("plan.no_drivers")}
          onToggle={toggle("driver_ids", t("plan.drivers"))}
        />
        <Checklist
          id="cycles"
          legend={t("plan.cycles")}
          hint={t("plan.cycles_hint", { site: meta.siteId || t("doc.network_level") })}
          options={of(DocKind.PDSA_CYCLE).map(docOption)}
          selected={strings(doc.cycle_ids)}
          readOnly={readOnly}
          empty={t("plan.no_cycles")}
          onToggle={toggle("cycle_ids", t("plan.cycles"))}
        />
      </section>
    </div>
  );
}
