// The site's inquiry documents as docs/SCHEMA.md publishes them — empathy interviews,
// root-cause analyses, equity audits, improvement plans — and the edits the forms make.
// Types matter: ids, codes, dates and links are string scalars (`ImmutableString`); prose
// is collaborative text (a plain JS string, made empty at creation so that two people who
// start typing in one field edit one text); entries people add at once carry an `id`.

import { Automerge } from "@automerge/automerge-repo/slim";
import { DocKind, Visibility } from "../gen/nic/v1/common_pb";
import { entryId, sv } from "../model";

const str = (s: string) => new Automerge.ImmutableString(s);

/** The four kinds, by the name the route carries (`#/n/NET/new/KIND`). */
export const FORM_KINDS: Record<string, DocKind> = {
  empathy_interview: DocKind.EMPATHY_INTERVIEW,
  root_cause_analysis: DocKind.ROOT_CAUSE_ANALYSIS,
  equity_audit: DocKind.EQUITY_AUDIT,
  improvement_plan: DocKind.IMPROVEMENT_PLAN,
};

/** Each kind's default visibility: interviews stay with the site (docs/DOMAIN.md, Privacy);
 * the rest are shared with the network, as `nic rca|audit|plan create` make them. */
export function defaultVisibility(kind: DocKind): Visibility {
  return kind === DocKind.EMPATHY_INTERVIEW ? Visibility.SITE : Visibility.NETWORK;
}

/** Roles an interviewee may be described by (never a name). */
export const INTERVIEWEE_ROLES = ["student", "parent", "teacher", "counselor", "administrator", "staff", "community_member"];

/** Student groups often named, as `dimension=value` (the network's focus groups come first). */
export const COMMON_GROUPS = ["english_learner=yes", "iep=yes", "low_income=yes", "newcomer=yes", "all"];

/** Fishbone categories a team often starts from. */
export const RCA_CATEGORIES = ["instruction", "policies", "relationships", "curriculum", "resources", "student experience"];

/** Areas an equity audit often looks at. */
export const AUDIT_AREAS = ["access", "discipline", "course enrolment", "attendance", "achievement", "advanced coursework", "family engagement"];

/** A category's id from its name, as `nic rca` makes it: lower case, words joined by `-`. */
export function slug(name: string): string {
  return name
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .map((w) => w.toLowerCase())
    .join("-");
}

/** A student group as the product writes them: `all` or `dimension=value`. */
export function isGroup(g: string): boolean {
  if (g === "all") return true;
  const at = g.indexOf("=");
  return at > 0 && g.slice(0, at).trim() !== "" && g.slice(at + 1).trim() !== "";
}

/** An interview's first content. */
export function writeInterview(d: any, f: { role: string; groups: string[]; date: string; interviewer: string }) {
  d.kind = str("empathy_interview");
  d.schema = new Automerge.Uint(1);
  d.interviewee_role = str(f.role);
  d.interviewee_groups = f.groups.map(str);
  d.interviewer = str(f.interviewer);
  d.date = f.date ? str(f.date) : null;
  d.questions = [];
  d.notes = "";
  d.themes = [];
}

/** A root-cause analysis's first content: the problem and the categories to start from. */
export function writeRca(d: any, f: { problem: string; categories: string[] }) {
  d.kind = str("root_cause_analysis");
  d.schema = new Automerge.Uint(1);
  d.problem = f.problem;
  d.categories = [];
  for (const name of f.categories) addCategory(d, name);
  d.why_chains = [];
  d.equity_codes = [];
}

/** An equity audit's first content. */
export function writeAudit(d: any, f: { area: string; sources: string }) {
  d.kind = str("equity_audit");
  d.schema = new Automerge.Uint(1);
  d.area = str(f.area);
  d.findings = [];
  d.sources = f.sources;
}

/** An improvement plan's first content. */
export function writePlan(d: any, f: { problem: string; data: string; rca: string }) {
  d.kind = str("improvement_plan");
  d.schema = new Automerge.Uint(1);
  d.problem = f.problem;
  d.data_summary = f.data;
  d.root_cause_analysis_id = f.rca ? str(f.rca) : null;
  d.aim_ids = [];
  d.driver_ids = [];
  d.cycle_ids = [];
}

/** Sets a string scalar field (`null` when empty and the field may be null). */
export function setString(d: any, path: (string | number)[], value: string, nullable = false) {
  let o = d;
  for (const p of path.slice(0, -1)) o = o[p];
  o[path[path.length - 1]] = value === "" && nullable ? null : str(value);
}

/** The list at `path`, made if absent. */
function listAt(d: any, path: (string | number)[]): any[] {
  let o = d;
  for (const p of path.slice(0, -1)) o = o[p];
  const last = path[path.length - 1];
  if (!Array.isArray(o[last])) o[last] = [];
  return o[last];
}

/** Adds a string to a list of strings, once. */
export function addString(d: any, path: (string | number)[], value: string) {
  const list = listAt(d, path);
  if (!list.some((x) => sv(x) === value)) list.push(str(value));
}

/** Removes a string from a list of strings. */
export function removeString(d: any, path: (string | number)[], value: string) {
  const list = listAt(d, path);
  for (let i = list.length - 1; i >= 0; i--) if (sv(list[i]) === value) list.splice(i, 1);
}

/** Adds a collaborative text to a list of texts (a question, a why). */
export function addText(d: any, path: (string | number)[], value: string) {
  listAt(d, path).push(value);
}

/** Removes the entry at `index` from a list (texts have no id: the index is what there is). */
export function removeAt(d: any, path: (string | number)[], index: number) {
  const list = listAt(d, path);
  if (index >= 0 && index < list.length) list.splice(index, 1);
}

/** Removes the entry with `id` from a list of entries. */
export function removeById(d: any, path: (string | number)[], id: string) {
  const list = listAt(d, path);
  const i = list.findIndex((e) => sv(e?.id) === id);
  if (i >= 0) list.splice(i, 1);
}

/** The index of the entry with `id` in a list (-1 if gone). */
export function indexOf(list: any[] | undefined, id: string): number {
  return (list ?? []).findIndex((e) => sv(e?.id) === id);
}

// ---- Root-cause analysis -------------------------------------------------------------

/** Adds a fishbone category (its id from its name), unless one with that id is there. */
export function addCategory(d: any, name: string): string {
  const id = slug(name) || entryId("cat");
  d.categories ??= [];
  if (!d.categories.some((c: any) => sv(c.id) === id)) {
    d.categories.push({});
    const c = d.categories[d.categories.length - 1];
    c.id = str(id);
    c.name = str(name);
    c.causes = [];
  }
  return id;
}

/** The path (in the document) of the cause list a chain of ids leads to: a category's id,
 * then cause ids going deeper. `null` when an entry on the way is gone. */
export function causesPath(d: any, trail: string[]): (string | number)[] | null {
  const ci = indexOf(d.categories, trail[0]);
  if (ci < 0) return null;
  const path: (string | number)[] = ["categories", ci, "causes"];
  let list = d.categories[ci].causes ?? [];
  for (const id of trail.slice(1)) {
    const i = indexOf(list, id);
    if (i < 0) return null;
    path.push(i, "causes");
    list = list[i].causes ?? [];
  }
  return path;
}

/** Every cause id in the analysis, at any depth. */
export function causeIds(r: any): string[] {
  const out: string[] = [];
  const walk = (causes: any[] | undefined) => {
    for (const c of causes ?? []) {
      out.push(sv(c.id));
      walk(c.causes);
    }
  };
  for (const cat of r?.categories ?? []) walk(cat.causes);
  return out;
}

/** Adds a cause under a category or a cause (`trail`); returns its id. */
export function addCause(d: any, trail: string[], text: string, evidence: string): string | null {
  const path = causesPath(d, trail);
  if (!path) return null;
  const list = listAt(d, path);
  const id = nextId("c", causeIds(d));
  list.push({});
  const c = list[list.length - 1];
  c.id = str(id);
  c.text = text;
  c.evidence = evidence;
  c.causes = [];
  return id;
}

/** Adds a 5-whys chain with its first answer. */
export function addChain(d: any, first: string): string {
  d.why_chains ??= [];
  const id = nextId("w", d.why_chains.map((w: any) => sv(w.id)));
  d.why_chains.push({});
  const w = d.why_chains[d.why_chains.length - 1];
  w.id = str(id);
  w.whys = [first];
  return id;
}

// ---- Equity audit --------------------------------------------------------------------

/** Adds a finding for a student group; returns its id. */
export function addFinding(d: any, group: string, finding: string): string {
  d.findings ??= [];
  const id = nextId("f", d.findings.map((f: any) => sv(f.id)));
  d.findings.push({});
  const f = d.findings[d.findings.length - 1];
  f.id = str(id);
  f.group = str(group);
  f.finding = finding;
  return id;
}

/**
 * A short id for a new entry: the prefix, one more than the entries there, and a random
 * part so that two people adding at once while apart get different ids (as `nic` does
 * with its replica's actor id).
 */
export function nextId(prefix: string, taken: string[]): string {
  for (let n = taken.length + 1; ; n++) {
    const id = `${prefix}${n}-${crypto.randomUUID().slice(0, 4)}`;
    if (!taken.includes(id)) return id;
  }
}
