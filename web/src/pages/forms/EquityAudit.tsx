// An equity audit: how one area (access, discipline, course enrolment…) treats each
// student group — a finding per group, written `all` or `dimension=value` — and the
// sources consulted.

import { useState } from "preact/hooks";
import type { DocHandle } from "@automerge/automerge-repo/slim";
import { CollabText } from "../../components/CollabText";
import type { Meta } from "../../catalog";
import type { Session } from "../../session";
import type { Replica } from "../../repo";
import { DocKind } from "../../gen/nic/v1/common_pb";
import { t } from "../../i18n";
import { sv } from "../../model";
import * as F from "../../forms/model";
import { PrivacyNote, StringField, strings, useNetworkDoc } from "../../forms/fields";

interface Props {
  session: Session;
  replica: Replica;
  meta: Meta;
  handle: DocHandle<any>;
  doc: any;
  readOnly: boolean;
}

const groupProblem = (v: string) => (F.isGroup(v) ? "" : t("audit.bad_group"));

/** The audit's editor. */
export function EquityAuditForm({ session, replica, meta, handle, doc, readOnly }: Props) {
  const change = (message: string, f: (d: any) => void) => handle.change(f, { message });
  const profile = useNetworkDoc(session, replica, meta.networkId, DocKind.NETWORK_PROFILE);
  const groups = [...new Set([...strings(profile?.equity_focus_groups), ...F.COMMON_GROUPS])];
  const [group, setGroup] = useState("");
  const [problem, setProblem] = useState("");
  const findings: any[] = doc.findings ?? [];
  const findingAt = (id: string) => (d: any) => {
    const i = F.indexOf(d.findings, id);
    if (i < 0) throw new Error(t("audit.finding_gone"));
    return ["findings", i, "finding"];
  };
  const add = () => {
    const g = group.trim();
    if (!g) return;
    const why = groupProblem(g);
    setProblem(why);
    if (why) return;
    change(t("audit.finding_added"), (d) => F.addFinding(d, g, ""));
    setGroup("");
  };
  return (
    <div class="form-doc audit">
      <PrivacyNote />
      <datalist id="group-options">
        {groups.map((g) => (
          <option key={g} value={g} />
        ))}
      </datalist>
      <datalist id="area-options">
        {F.AUDIT_AREAS.map((a) => (
          <option key={a} value={a} />
        ))}
      </datalist>
      <StringField
        id="area"
        label={t("audit.area")}
        hint={t("audit.area_hint")}
        list="area-options"
        value={sv(doc.area)}
        readOnly={readOnly}
        check={(v) => (v ? "" : t("audit.need_area"))}
        onCommit={(v) => change(t("forms.changed", { field: t("audit.area") }), (d) => F.setString(d, ["area"], v))}
      />
      <section aria-labelledby="findings-h">
        <h2 id="findings-h">{t("audit.findings")}</h2>
        <p class="hint">{t("audit.findings_hint")}</p>
        {findings.length === 0 && <p class="muted">{t("audit.no_findings")}</p>}
        {findings.map((f, i) => {
          const fid = sv(f.id);
          const label = t("audit.finding_for", { group: sv(f.group) || "?" });
          return (
            <fieldset class="finding" key={fid} id={`finding-${fid}`}>
              <legend>{label}</legend>
              <StringField
                id={`finding-${fid}-group`}
                label={t("audit.group")}
                list="group-options"
                value={sv(f.group)}
                readOnly={readOnly}
                check={groupProblem}
                onCommit={(v) => change(t("forms.changed", { field: t("audit.group") }), (d) => {
                  const at = F.indexOf(d.findings, fid);
                  if (at >= 0) F.setString(d, ["findings", at, "group"], v);
                })}
              />
              <CollabText id={`finding-${fid}-text`} handle={handle} doc={doc} path={["findings", i, "finding"]} prepare={findingAt(fid)} label={t("audit.finding")} message={t("forms.changed", { field: label })} readOnly={readOnly} rows={3} />
              {!readOnly && (
                <button type="button" class="link" onClick={() => change(t("audit.finding_removed"), (d) => F.removeById(d, ["findings"], fid))}>
                  {t("forms.remove")}
                  <span class="sr-only"> {label}</span>
                </button>
              )}
            </fieldset>
          );
        })}
        {!readOnly && (
          <div class="inline">
            <label for="new-finding-group">{t("audit.new_finding")}</label>
            <input
              id="new-finding-group"
              list="group-options"
              value={group}
              aria-describedby={`new-finding-hint${problem ? " new-finding-problem" : ""}`}
              aria-invalid={problem ? true : undefined}
              onInput={(e) => setGroup(e.currentTarget.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter") {
                  e.preventDefault();
                  add();
                }
              }}
            />
            <button type="button" onClick={add}>
              {t("audit.add_finding")}
            </button>
            <p class="hint" id="new-finding-hint">
              {t("audit.group_hint")}
            </p>
            {problem && (
              <p role="alert" class="error" id="new-finding-problem">
                {problem}
              </p>
            )}
          </div>
        )}
      </section>
      <section aria-labelledby="sources-h">
        <h2 id="sources-h">{t("audit.sources_h")}</h2>
        <CollabText id="sources" handle={handle} doc={doc} path={["sources"]} label={t("audit.sources")} hint={t("audit.sources_hint")} message={t("forms.changed", { field: t("audit.sources") })} readOnly={readOnly} rows={4} />
      </section>
    </div>
  );
}
