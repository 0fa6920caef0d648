// An empathy interview: who was interviewed (by role and student group, never by name),
// by whom and when, the questions asked, the notes, and the themes drawn from it.
// Interviews are site-visible: the site's team and the network's leads read them.

import { useEffect, useState } from "preact/hooks";
import type { DocHandle } from "@automerge/automerge-repo/slim";
import { CollabText } from "../../components/CollabText";
import type { Meta } from "../../catalog";
import type { Session } from "../../session";
import type { Replica } from "../../repo";
import { DocKind, Visibility } from "../../gen/nic/v1/common_pb";
import { memberNames } from "../../people";
import { t } from "../../i18n";
import { sv } from "../../model";
import * as F from "../../forms/model";
import { PrivacyNote, StringField, TagList, TextList, strings, useNetworkDoc } from "../../forms/fields";

interface Props {
  session: Session;
  replica: Replica;
  meta: Meta;
  handle: DocHandle<any>;
  doc: any;
  readOnly: boolean;
}

/** The interview's editor. */
export function EmpathyInterviewForm({ session, replica, meta, handle, doc, readOnly }: Props) {
  const change = (message: string, f: (d: any) => void) => handle.change(f, { message });
  const [names, setNames] = useState<Map<string, string>>(new Map([[session.memberId, session.displayName]]));
  useEffect(() => {
    memberNames(session, meta.networkId).then(setNames);
  }, [meta.networkId]);
  const profile = useNetworkDoc(session, replica, meta.networkId, DocKind.NETWORK_PROFILE);
  const groupSuggestions = [...new Set([...strings(profile?.equity_focus_groups), ...F.COMMON_GROUPS])];
  const role = sv(doc.interviewee_role);
  const interviewer = sv(doc.interviewer);
  const roles = F.INTERVIEWEE_ROLES.includes(role) || !role ? F.INTERVIEWEE_ROLES : [...F.INTERVIEWEE_ROLES, role];
  const members = [...names.entries()].sort((a, b) => a[1].localeCompare(b[1]));
  if (interviewer && !names.has(interviewer)) members.push([interviewer, interviewer]);
  return (
    <div class="form-doc interview">
      <PrivacyNote interview />
      {meta.visibility === Visibility.SITE ? (
        <p class="muted">{t("interview.kept_at_site", { site: meta.siteId })}</p>
      ) : (
        <p class="notice" role="note">
          {t("interview.network_visible")}
        </p>
      )}
      <section aria-labelledby="who-h">
        <h2 id="who-h">{t("interview.who")}</h2>
        <div class="field">
          <label for="interviewee-role">{t("interview.role")}</label>
          <p class="hint" id="interviewee-role-hint">
            {t("interview.role_hint")}
          </p>
          <select
            id="interviewee-role"
            value={role}
            disabled={readOnly}
            aria-describedby="interviewee-role-hint"
            onChange={(e) => change(t("forms.changed", { field: t("interview.role") }), (d) => F.setString(d, ["interviewee_role"], e.currentTarget.value))}
          >
            {!role && <option value="">{t("forms.choose")}</option>}
            {roles.map((r) => (
              <option key={r} value={r}>
                {F.INTERVIEWEE_ROLES.includes(r) ? t(`interview.role_${r}` as any) : r}
              </option>
            ))}
          </select>
        </div>
        <TagList
          id="groups"
          legend={t("interview.groups")}
          hint={t("interview.groups_hint")}
          addLabel={t("interview.add_group")}
          values={strings(doc.interviewee_groups)}
          suggestions={groupSuggestions}
          readOnly={readOnly}
          check={(v) => (/\s/.test(v.trim()) && !v.includes("=") ? t("forms.group_not_name") : "")}
          onAdd={(v) => change(t("forms.added", { field: t("interview.groups") }), (d) => F.addString(d, ["interviewee_groups"], v))}
          onRemove={(v) => change(t("forms.removed", { field: t("interview.groups") }), (d) => F.removeString(d, ["interviewee_groups"], v))}
        />
        <div class="field">
          <label for="interviewer">{t("interview.interviewer")}</label>
          <select
            id="interviewer"
            value={interviewer}
            disabled={readOnly}
            onChange={(e) => change(t("forms.changed", { field: t("interview.interviewer") }), (d) => F.setString(d, ["interviewer"], e.currentTarget.value))}
          >
            <option value="">{t("interview.interviewer_none")}</option>
            {members.map(([id, name]) => (
              <option key={id} value={id}>
                {name === id ? id : `${name} (${id})`}
              </option>
            ))}
          </select>
        </div>
        <StringField
          id="interview-date"
          type="date"
          label={t("interview.date")}
          value={sv(doc.date)}
          readOnly={readOnly}
          check={(v) => (v && !/^\d{4}-\d{2}-\d{2}$/.test(v) ? t("forms.bad_date") : "")}
          onCommit={(v) => change(t("forms.changed", { field: t("interview.date") }), (d) => F.setString(d, ["date"], v, true))}
        />
      </section>
      <section aria-labelledby="heard-h">
        <h2 id="heard-h">{t("interview.heard")}</h2>
        <TextList
          id="questions"
          legend={t("interview.questions")}
          handle={handle}
          doc={doc}
          path={["questions"]}
          items={doc.questions ?? []}
          itemLabel={(n) => t("interview.question_n", { n })}
          addLabel={t("interview.add_question")}
          message={t("forms.changed", { field: t("interview.questions") })}
          readOnly={readOnly}
          ordered
          onAdd={(text) => change(t("forms.added", { field: t("interview.questions") }), (d) => F.addText(d, ["questions"], text))}
          onRemove={(i) => change(t("forms.removed", { field: t("interview.questions") }), (d) => F.removeAt(d, ["questions"], i))}
        />
        <CollabText
          id="notes"
          handle={handle}
          doc={doc}
          path={["notes"]}
          label={t("interview.notes")}
          hint={t("interview.notes_hint")}
          message={t("forms.changed", { field: t("interview.notes") })}
          readOnly={readOnly}
          rows={8}
        />
        <TagList
          id="themes"
          legend={t("interview.themes")}
          hint={t("interview.themes_hint")}
          addLabel={t("interview.add_theme")}
          values={strings(doc.themes)}
          readOnly={readOnly}
          onAdd={(v) => change(t("forms.added", { field: t("interview.themes") }), (d) => F.addString(d, ["themes"], v))}
          onRemove={(v) => change(t("forms.removed", { field: t("interview.themes") }), (d) => F.removeString(d, ["themes"], v))}
        />
      </section>
    </div>
  );
}
