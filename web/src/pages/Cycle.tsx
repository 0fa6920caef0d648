// The PDSA cycle worksheet: Plan, Do, Study, Act, co-edited live. Predictions lock once
// the Do phase has data (as the typed API refuses such edits); an "adapt" decision opens
// the next cycle on the ramp, linked both ways.

import { useState } from "preact/hooks";
import type { DocHandle } from "@automerge/automerge-repo/slim";
import { CollabText, textAt } from "../components/CollabText";
import { t, when } from "../i18n";
import * as M from "../model";
import type { PdsaCycle } from "../model";
import type { Meta } from "../catalog";
import type { Session } from "../session";
import type { Replica } from "../repo";
import { createDocument } from "../create";
import { href } from "../route";
import { errorText } from "../api";

interface Props {
  session: Session;
  replica: Replica;
  meta: Meta;
  handle: DocHandle<PdsaCycle>;
  doc: PdsaCycle;
  readOnly: boolean;
}

const PLAN_FIELDS = ["who", "what", "when", "where", "population", "data_collection"] as const;

/** One cycle's worksheet. */
export function CycleWorksheet({ session, replica, meta, handle, doc, readOnly }: Props) {
  const locked = M.doHasData(doc);
  const [newQuestion, setNewQuestion] = useState("");
  const [observation, setObservation] = useState("");
  const [problem, setProblem] = useState("");
  const change = (message: string, f: (d: any) => void) => handle.change(f, { message });
  const questions = doc.plan?.questions ?? [];
  const decision = M.sv(doc.act?.decision);
  const next = M.sv(doc.act?.next_cycle_id);
  const previous = M.sv(doc.previous_cycle_id);

  const startNext = async () => {
    setProblem("");
    try {
      const title = `${M.sv(doc.change_idea_id)} — ${t("cycle.number", { n: Number(doc.cycle_number ?? 0) + 1 })}`;
      const nextId = await createDocument(session, replica, {
        kind: meta.kind,
        networkId: meta.networkId,
        siteId: meta.siteId,
        visibility: meta.visibility,
        title,
        write: (d) => M.writeNextCycle(d, doc, meta.docId),
      });
      change(t("change.next_cycle"), (d) => M.setNextCycle(d, nextId));
      location.hash = href({ page: "doc", docId: nextId });
    } catch (e) {
      setProblem(errorText(e));
    }
  };

  return (
    <div class="worksheet">
      <p class="muted">
        {t("cycle.idea")}: <strong>{M.sv(doc.change_idea_id) || t("cycle.no_idea")}</strong> · {t("cycle.number", { n: Number(doc.cycle_number ?? 0) })}
        {previous && (
          <>
            {" · "}
            <a href={href({ page: "doc", docId: previous })}>{t("cycle.previous")}</a>
          </>
        )}
      </p>

      <section aria-labelledby="plan-h">
        <h2 id="plan-h">{t("cycle.plan")}</h2>
        <CollabText id="objective" handle={handle} doc={doc} path={["plan", "objective"]} label={t("cycle.objective")} message={t("change.field", { field: t("cycle.objective") })} readOnly={readOnly} />
        <h3>{t("cycle.questions")}</h3>
        {locked && <p class="notice" role="note">{t("cycle.predictions_locked")}</p>}
        {questions.length === 0 && <p>{t("cycle.no_questions")}</p>}
        {questions.map((q, i) => (
          <fieldset key={M.sv(q.id)} class="question">
            <legend>{t("cycle.question_n", { n: i + 1 })}</legend>
            <CollabText id={`q-${M.sv(q.id)}`} handle={handle} doc={doc} path={["plan", "questions", i, "question"]} label={t("cycle.question")} message={t("change.field", { field: t("cycle.question_n", { n: i + 1 }) })} readOnly={readOnly} rows={2} />
            <CollabText id={`p-${M.sv(q.id)}`} handle={handle} doc={doc} path={["plan", "questions", i, "prediction"]} label={t("cycle.prediction")} message={t("change.field", { field: t("cycle.prediction") })} readOnly={readOnly || locked} rows={2} hint={locked ? t("cycle.prediction_fixed") : undefined} />
          </fieldset>
        ))}
        {!readOnly && (
          <form
            class="inline"
            onSubmit={(e) => {
              e.preventDefault();
              if (!newQuestion.trim()) return;
              change(t("change.question_added"), (d) => M.addQuestion(d, newQuestion.trim()));
              setNewQuestion("");
            }}
          >
            <label for="new-question">{t("cycle.new_question")}</label>
            <input id="new-question" value={newQuestion} onInput={(e) => setNewQuestion(e.currentTarget.value)} />
            <button type="submit">{t("cycle.add_question")}</button>
          </form>
        )}
        {PLAN_FIELDS.map((f) => (
          <CollabText key={f} id={`plan-${f}`} handle={handle} doc={doc} path={["plan", f]} label={t(`cycle.plan_${f}`)} message={t("change.field", { field: t(`cycle.plan_${f}`) })} readOnly={readOnly} rows={2} />
        ))}
      </section>

      <section aria-labelledby="do-h">
        <h2 id="do-h">{t("cycle.do")}</h2>
        <fieldset>
          <legend>{t("cycle.as_planned")}</legend>
          {([
            ["yes", true],
            ["no", false],
            ["unsaid", null],
          ] as const).map(([k, v]) => (
            <label key={k} class="choice">
              <input type="radio" name="as-planned" checked={(doc.do?.as_planned ?? null) === v} disabled={readOnly} onChange={() => change(t("change.as_planned"), (d) => M.setAsPlanned(d, v))} /> {t(`cycle.as_planned_${k}`)}
            </label>
          ))}
        </fieldset>
        <CollabText id="what-happened" handle={handle} doc={doc} path={["do", "what_happened"]} label={t("cycle.what_happened")} message={t("change.field", { field: t("cycle.what_happened") })} readOnly={readOnly} />
        <h3>{t("cycle.observations")}</h3>
        <ul>
          {(doc.do?.observations ?? []).map((o) => (
            <li key={M.sv(o.id)}>
              <span class="muted">{when(Number(o.at_ms ?? 0))}</span> {textAt(o, ["text"])}
            </li>
          ))}
        </ul>
        {!readOnly && (
          <form
            class="inline"
            onSubmit={(e) => {
              e.preventDefault();
              if (!observation.trim()) return;
              change(t("change.observation"), (d) => M.addObservation(d, observation.trim()));
              setObservation("");
            }}
          >
            <label for="new-observation">{t("cycle.new_observation")}</label>
            <input id="new-observation" value={observation} onInput={(e) => setObservation(e.currentTarget.value)} />
            <button type="submit">{t("cycle.add_observation")}</button>
          </form>
        )}
        <CollabText id="adjustments" handle={handle} doc={doc} path={["do", "adjustments"]} label={t("cycle.adjustments")} message={t("change.field", { field: t("cycle.adjustments") })} readOnly={readOnly} rows={2} />
      </section>

      <section aria-labelledby="study-h">
        <h2 id="study-h">{t("cycle.study")}</h2>
        {questions.map((q, i) => {
          const qid = M.sv(q.id);
          const at = (doc.study?.results ?? []).findIndex((r) => M.sv(r.question_id) === qid);
          return (
            <div key={qid} class="result">
              <p>
                <strong>{t("cycle.question_n", { n: i + 1 })}:</strong> {textAt(q, ["question"])}
                <br />
                <span class="muted">{t("cycle.predicted")}:</span> {textAt(q, ["prediction"]) || "—"}
              </p>
              <CollabText
                id={`r-${qid}`}
                handle={handle}
                doc={doc}
                path={["study", "results", at < 0 ? 1e9 : at, "result"]}
                prepare={(d) => ["study", "results", M.resultIndex(d, qid), "result"]}
                label={t("cycle.result")}
                message={t("change.field", { field: t("cycle.result") })}
                readOnly={readOnly}
                rows={2}
              />
            </div>
          );
        })}
        <CollabText id="learning" handle={handle} doc={doc} path={["study", "learning"]} label={t("cycle.learning")} message={t("change.field", { field: t("cycle.learning") })} readOnly={readOnly} />
      </section>

      <section aria-labelledby="act-h">
        <h2 id="act-h">{t("cycle.act")}</h2>
        <label for="decision">{t("cycle.decision")}</label>
        <select id="decision" value={decision} disabled={readOnly} onChange={(e) => change(t("change.decision"), (d) => M.setDecision(d, e.currentTarget.value || null))}>
          <option value="">{t("cycle.undecided")}</option>
          <option value="adopt">{t("cycle.adopt")}</option>
          <option value="adapt">{t("cycle.adapt")}</option>
          <option value="abandon">{t("cycle.abandon")}</option>
        </select>
        <CollabText id="rationale" handle={handle} doc={doc} path={["act", "rationale"]} label={t("cycle.rationale")} message={t("change.field", { field: t("cycle.rationale") })} readOnly={readOnly} rows={2} />
        {next ? (
          <p>
            <a href={href({ page: "doc", docId: next })}>{t("cycle.next_opened")}</a>
          </p>
        ) : (
          decision === "adapt" &&
          !readOnly && (
            <button type="button" onClick={startNext}>
              {t("cycle.start_next")}
            </button>
          )
        )}
        {problem && <p role="alert" class="error">{problem}</p>}
      </section>
    </div>
  );
}
