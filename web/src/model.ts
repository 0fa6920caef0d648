// The document shapes the app reads and writes, as published in docs/SCHEMA.md, and the
// rules the typed API applies to them. Automerge types matter: ids and allowed values are
// string scalars (`ImmutableString`), numbers are `Uint`/`Float64` where the schema says
// so, and prose is collaborative text (a plain JS string).

import { Automerge } from "@automerge/automerge-repo/slim";

const str = (s: string) => new Automerge.ImmutableString(s);

/** A PDSA cycle as the worksheet reads it (absent keys read as defaults). */
export interface PdsaCycle {
  kind?: string;
  change_idea_id?: string;
  cycle_number?: number | bigint;
  previous_cycle_id?: string | null;
  purpose?: string;
  planned_start?: string | null;
  planned_end?: string | null;
  plan?: {
    objective?: string;
    questions?: { id: string; question?: string; prediction?: string; data_type?: string }[];
    who?: string;
    what?: string;
    when?: string;
    where?: string;
    population?: string;
    data_collection?: string;
  };
  do?: {
    as_planned?: boolean | null;
    what_happened?: string;
    observations?: { id: string; at_ms?: number; text?: string }[];
    adjustments?: string;
  };
  study?: { results?: { question_id: string; result?: string }[]; learning?: string };
  act?: { decision?: string | null; rationale?: string; next_cycle_id?: string | null };
  equity_pauses?: { id: string; phase?: string; prompt?: string; by?: string; reflection?: string }[];
}

/** A string scalar, text or absent value as a plain string (Automerge reads string
 * scalars as `ImmutableString`, which compares unequal to a plain string). */
export const sv = (v: unknown): string => (v == null ? "" : String(v));
const s = sv;

/** Whether the Do phase has data, which fixes the predictions (as `Do::has_data`). */
export function doHasData(c: PdsaCycle): boolean {
  const d = c.do ?? {};
  return (
    d.as_planned != null ||
    s(d.what_happened).trim() !== "" ||
    (d.observations?.length ?? 0) > 0 ||
    s(d.adjustments).trim() !== ""
  );
}

/** A short id for a list entry (questions, observations, pauses). */
export function entryId(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** The content of a new cycle: kind, schema version, the change idea and a first question. */
export function writeNewCycle(d: any, changeIdea: string, cycleNumber: number, objective: string) {
  d.kind = str("pdsa_cycle");
  d.schema = new Automerge.Uint(1);
  d.change_idea_id = str(changeIdea);
  d.cycle_number = new Automerge.Uint(cycleNumber);
  d.purpose = str("develop");
  d.plan = {};
  d.plan.objective = objective;
  d.plan.questions = [];
  writeEmptyTexts(d);
}

/**
 * Makes every text field of the worksheet, empty, so two people who start typing in the
 * same empty field at once edit one text (two concurrent creations of a field would
 * conflict, and one person's words would be hidden).
 */
function writeEmptyTexts(d: any) {
  for (const k of ["objective", "who", "what", "when", "where", "population", "data_collection"]) d.plan[k] ??= "";
  d.do ??= {};
  d.do.what_happened ??= "";
  d.do.observations ??= [];
  d.do.adjustments ??= "";
  d.study ??= {};
  d.study.results ??= [];
  d.study.learning ??= "";
  d.act ??= {};
  d.act.rationale ??= "";
}

/**
 * The next cycle after an "adapt" decision (as `PdsaCycle::next_from_adapt`): same change
 * idea, purpose, plan and questions (predictions empty), number + 1, linked back.
 */
export function writeNextCycle(d: any, from: PdsaCycle, fromId: string) {
  d.kind = str("pdsa_cycle");
  d.schema = new Automerge.Uint(1);
  d.change_idea_id = str(s(from.change_idea_id));
  d.cycle_number = new Automerge.Uint(Number(from.cycle_number ?? 0) + 1);
  d.previous_cycle_id = str(fromId);
  d.purpose = str(s(from.purpose) || "develop");
  const p = from.plan ?? {};
  d.plan = {};
  for (const k of ["objective", "who", "what", "when", "where", "population", "data_collection"] as const) {
    d.plan[k] = s(p[k]);
  }
  d.plan.questions = [];
  for (const q of p.questions ?? []) {
    d.plan.questions.push({});
    const last = d.plan.questions[d.plan.questions.length - 1];
    last.id = str(s(q.id));
    last.question = s(q.question);
    last.prediction = "";
    last.data_type = str(s(q.data_type) || "quantitative");
  }
  writeEmptyTexts(d);
}

/** Adds a learning question to a cycle's plan. */
export function addQuestion(d: any, question: string) {
  d.plan ??= {};
  d.plan.questions ??= [];
  d.plan.questions.push({});
  const q = d.plan.questions[d.plan.questions.length - 1];
  q.id = str(entryId("q"));
  q.question = question;
  q.prediction = "";
  q.data_type = str("quantitative");
}

/** Adds an observation to the Do phase, stamped now. */
export function addObservation(d: any, text: string) {
  d.do ??= {};
  d.do.observations ??= [];
  d.do.observations.push({});
  const o = d.do.observations[d.do.observations.length - 1];
  o.id = str(entryId("obs"));
  o.at_ms = Date.now();
  o.text = text;
}

/** Sets (or adds) a question's result in Study. */
export function resultIndex(d: any, questionId: string): number {
  d.study ??= {};
  d.study.results ??= [];
  let i = d.study.results.findIndex((r: any) => sv(r.question_id) === questionId);
  if (i < 0) {
    d.study.results.push({});
    i = d.study.results.length - 1;
    d.study.results[i].question_id = str(questionId);
    d.study.results[i].result = "";
  }
  return i;
}

/** Records the Act phase's decision. */
export function setDecision(d: any, decision: string | null) {
  d.act ??= {};
  d.act.decision = decision ? str(decision) : null;
}

/** Sets whether the Do phase went as planned. */
export function setAsPlanned(d: any, value: boolean | null) {
  d.do ??= {};
  d.do.as_planned = value;
}

/** Records an equity pause. */
export function addEquityPause(d: any, phase: string, prompt: string, by: string) {
  d.equity_pauses ??= [];
  d.equity_pauses.push({});
  const e = d.equity_pauses[d.equity_pauses.length - 1];
  e.id = str(entryId("pause"));
  e.phase = str(phase);
  e.prompt = prompt;
  e.by = str(by);
  e.reflection = "";
}

/** Links a cycle to the one that follows it. */
export function setNextCycle(d: any, nextId: string) {
  d.act ??= {};
  d.act.next_cycle_id = str(nextId);
}
