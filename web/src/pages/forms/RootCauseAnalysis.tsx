// A root-cause analysis: the problem of practice, a fishbone (categories, each with causes
// that may hold deeper causes, every cause with the evidence that grounds it), "5 whys"
// chains, and the network's equity lens codes. Entries carry stable ids, so two people
// adding causes at once both keep theirs; the fields find their entry by id when written.

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
import { PrivacyNote, StringField, TagList, TextList, strings, useNetworkDoc } from "../../forms/fields";
import { textAt } from "../../components/CollabText";

interface Props {
  session: Session;
  replica: Replica;
  meta: Meta;
  handle: DocHandle<any>;
  doc: any;
  readOnly: boolean;
}

type Change = (message: string, f: (d: any) => void) => void;

/** The path of the cause at the end of `trail` (category id, cause ids), worked out in `d`. */
function causeAt(d: any, trail: string[]): (string | number)[] {
  const list = F.causesPath(d, trail.slice(0, -1));
  if (!list) throw new Error(t("rca.cause_gone"));
  let o = d;
  for (const p of list) o = o[p];
  const i = F.indexOf(o, trail[trail.length - 1]);
  if (i < 0) throw new Error(t("rca.cause_gone"));
  return [...list, i];
}

function CauseEditor(p: { handle: DocHandle<any>; doc: any; cause: any; path: (string | number)[]; trail: string[]; number: string; category: string; readOnly: boolean; change: Change }) {
  const { handle, doc, cause, path, trail, number, category, readOnly, change } = p;
  const label = t("rca.cause_n", { n: number, name: category });
  const id = sv(cause.id);
  const dom = `cause-${id}`;
  const deeper: any[] = cause.causes ?? [];
  return (
    <li>
      <fieldset class="cause" id={dom}>
        <legend>{label}</legend>
        <CollabText id={`${dom}-text`} handle={handle} doc={doc} path={[...path, "text"]} prepare={(d) => [...causeAt(d, trail), "text"]} label={t("rca.cause_text")} message={t("forms.changed", { field: label })} readOnly={readOnly} rows={2} />
        <CollabText
          id={`${dom}-evidence`}
          handle={handle}
          doc={doc}
          path={[...path, "evidence"]}
          prepare={(d) => [...causeAt(d, trail), "evidence"]}
          label={t("rca.evidence")}
          hint={textAt(cause, ["evidence"]).trim() ? undefined : t("rca.evidence_hint")}
          message={t("forms.changed", { field: t("rca.evidence") })}
          readOnly={readOnly}
          rows={2}
        />
        {deeper.length > 0 && (
          <ul class="causes">
            {deeper.map((c, i) => (
              <CauseEditor key={sv(c.id)} handle={handle} doc={doc} cause={c} path={[...path, "causes", i]} trail={[...trail, sv(c.id)]} number={`${number}.${i + 1}`} category={category} readOnly={readOnly} change={change} />
            ))}
          </ul>
        )}
        {!readOnly && (
          <p class="actions">
            <button type="button" class="secondary" onClick={() => change(t("rca.cause_added"), (d) => F.addCause(d, trail, "", ""))}>
              {t("rca.add_deeper")}
              <span class="sr-only"> {label}</span>
            </button>{" "}
            <button type="button" class="link" onClick={() => (deeper.length === 0 || confirm(t("rca.confirm_remove_cause", { label }))) && change(t("rca.cause_removed"), (d) => F.removeById(d, causeAt(d, trail).slice(0, -1), id))}>
              {t("forms.remove")}
              <span class="sr-only"> {label}</span>
            </button>
          </p>
        )}
      </fieldset>
    </li>
  );
}

/** The analysis's editor. */
export function RootCauseAnalysisForm({ session, replica, meta, handle, doc, readOnly }: Props) {
  const change: Change = (message, f) => handle.change(f, { message });
  const profile = useNetworkDoc(session, replica, meta.networkId, DocKind.NETWORK_PROFILE);
  const codes: { id: string; label: string }[] = (profile?.equity_codes ?? []).map((c: any) => ({ id: sv(c.id), label: textAt(c, ["label"]) }));
  const [category, setCategory] = useState("");
  const [why, setWhy] = useState("");
  const categories: any[] = doc.categories ?? [];
  const chains: any[] = doc.why_chains ?? [];
  const offered = F.RCA_CATEGORIES.filter((c) => !categories.some((x) => sv(x.id) === F.slug(c)));
  return (
    <div class="form-doc rca">
      <PrivacyNote />
      <CollabText id="problem" handle={handle} doc={doc} path={["problem"]} label={t("rca.problem")} hint={t("rca.problem_hint")} message={t("forms.changed", { field: t("rca.problem") })} readOnly={readOnly} />

      <section aria-labelledby="fishbone-h">
        <h2 id="fishbone-h">{t("rca.fishbone")}</h2>
        <p class="hint">{t("rca.fishbone_hint")}</p>
        {categories.length === 0 && <p class="muted">{t("rca.no_categories")}</p>}
        {categories.map((cat, ci) => {
          const cid = sv(cat.id);
          const name = sv(cat.name) || cid;
          const causes: any[] = cat.causes ?? [];
          return (
            <section class="category" key={cid} aria-labelledby={`cat-${cid}-h`}>
              <h3 id={`cat-${cid}-h`}>{t("rca.category_n", { name })}</h3>
              <StringField
                id={`cat-${cid}-name`}
                label={t("rca.category_name")}
                value={sv(cat.name)}
                readOnly={readOnly}
                onCommit={(v) => change(t("forms.changed", { field: t("rca.category_name") }), (d) => {
                  const i = F.indexOf(d.categories, cid);
                  if (i >= 0) F.setString(d, ["categories", i, "name"], v);
                })}
              />
              {causes.length === 0 ? (
                <p class="muted">{t("rca.no_causes")}</p>
              ) : (
                <ul class="causes">
                  {causes.map((c, i) => (
                    <CauseEditor key={sv(c.id)} handle={handle} doc={doc} cause={c} path={["categories", ci, "causes", i]} trail={[cid, sv(c.id)]} number={String(i + 1)} category={name} readOnly={readOnly} change={change} />
                  ))}
                </ul>
              )}
              {!readOnly && (
                <p class="actions">
                  <button type="button" onClick={() => change(t("rca.cause_added"), (d) => F.addCause(d, [cid], "", ""))}>
                    {t("rca.add_cause")}
                    <span class="sr-only"> {name}</span>
                  </button>{" "}
                  <button type="button" class="link" onClick={() => (causes.length === 0 || confirm(t("rca.confirm_remove_category", { name }))) && change(t("rca.category_removed"), (d) => F.removeById(d, ["categories"], cid))}>
                    {t("rca.remove_category")}
                    <span class="sr-only"> {name}</span>
                  </button>
                </p>
              )}
            </section>
          );
        })}
        {!readOnly && (
          <div class="inline">
            <label for="new-category">{t("rca.new_category")}</label>
            <input id="new-category" list="category-options" value={category} onInput={(e) => setCategory(e.currentTarget.value)} />
            <datalist id="category-options">
              {offered.map((c) => (
                <option key={c} value={c} />
              ))}
            </datalist>
            <button
              type="button"
              onClick={() => {
                if (!category.trim() || !F.slug(category)) return;
                change(t("rca.category_added"), (d) => F.addCategory(d, category.trim()));
                setCategory("");
              }}
            >
              {t("rca.add_category")}
            </button>
          </div>
        )}
      </section>

      <section aria-labelledby="whys-h">
        <h2 id="whys-h">{t("rca.whys")}</h2>
        <p class="hint">{t("rca.whys_hint")}</p>
        {chains.length === 0 && <p class="muted">{t("rca.no_chains")}</p>}
        {chains.map((w, wi) => {
          const wid = sv(w.id);
          const chainPath = (d: any) => {
            const i = F.indexOf(d.why_chains, wid);
            if (i < 0) throw new Error(t("rca.cause_gone"));
            return ["why_chains", i, "whys"];
          };
          return (
            <div class="chain" key={wid}>
              <TextList
                id={`chain-${wid}`}
                legend={t("rca.chain_n", { n: wi + 1 })}
                handle={handle}
                doc={doc}
                path={["why_chains", wi, "whys"]}
                prepare={chainPath}
                items={w.whys ?? []}
                itemLabel={(n) => t("rca.why_n", { n })}
                addLabel={t("rca.add_why")}
                message={t("forms.changed", { field: t("rca.chain_n", { n: wi + 1 }) })}
                readOnly={readOnly}
                ordered
                onAdd={(text) => change(t("rca.why_added"), (d) => F.addText(d, chainPath(d), text))}
                onRemove={(i) => change(t("rca.why_removed"), (d) => F.removeAt(d, chainPath(d), i))}
              />
              {!readOnly && (
                <button type="button" class="link" onClick={() => change(t("rca.chain_removed"), (d) => F.removeById(d, ["why_chains"], wid))}>
                  {t("rca.remove_chain", { n: wi + 1 })}
                </button>
              )}
            </div>
          );
        })}
        {!readOnly && (
          <div class="inline">
            <label for="new-chain">{t("rca.new_chain")}</label>
            <input id="new-chain" value={why} onInput={(e) => setWhy(e.currentTarget.value)} />
            <button
              type="button"
              onClick={() => {
                if (!why.trim()) return;
                change(t("rca.chain_added"), (d) => F.addChain(d, why.trim()));
                setWhy("");
              }}
            >
              {t("rca.start_chain")}
            </button>
          </div>
        )}
      </section>

      <section aria-labelledby="codes-h">
        <h2 id="codes-h">{t("rca.codes")}</h2>
        <TagList
          id="equity-codes"
          legend={t("rca.codes_legend")}
          hint={codes.length ? t("rca.codes_hint") : readOnly ? undefined : t("rca.codes_none")}
          addLabel={t("rca.add_code")}
          values={strings(doc.equity_codes)}
          suggestions={codes.map((c) => c.id)}
          show={(v) => {
            const c = codes.find((x) => x.id === v);
            return c && c.label ? `${v}: ${c.label}` : v;
          }}
          readOnly={readOnly}
          onAdd={(v) => change(t("forms.added", { field: t("rca.codes") }), (d) => F.addString(d, ["equity_codes"], v))}
          onRemove={(v) => change(t("forms.removed", { field: t("rca.codes") }), (d) => F.removeString(d, ["equity_codes"], v))}
        />
      </section>
    </div>
  );
}
