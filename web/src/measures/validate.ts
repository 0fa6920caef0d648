// Measure data rows checked exactly as `nic import measures` checks them
// (crates/nic-cli/src/cmd/import.rs `check`, and nic-model's `Period::parse`): the same
// columns, the same refusals, the same words, so a file the CLI refuses is refused here
// with the same line number and reason. Nothing is written while any row is bad.

/** What the checks need of the measure's definition. */
export interface MeasureRules {
  scoring: string; // proportion, ratio, count or continuous
  groupDimensions: string[];
}

/** A row that passed: one point for one site. */
export interface GoodRow {
  site: string;
  id: string;
  period: string;
  group: string;
  numerator: number | null;
  denominator: number | null;
  value: number | null;
  n: number;
  note: string;
}

/** The checked rows: the good ones, and one line per bad row naming it and what is wrong. */
export interface Checked {
  good: GoodRow[];
  bad: string[];
}

export const COLUMNS = ["period", "site", "group", "numerator", "denominator", "value", "n", "note"];
const REQUIRED = ["period", "site", "group", "n"];

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** Why `s` is not a period (`YYYY-MM-DD`, a real date), or "" when it is one. */
export function periodProblem(s: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return "write it YYYY-MM-DD: a four-digit year, a two-digit month and day, nothing before or after";
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12) return `there is no month ${m[2]} (months are 01 to 12)`;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const length = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (day < 1 || day > length) return `${MONTHS[month - 1]} ${year} has no day ${day} (it has ${length} days)`;
  return "";
}

/** Rust's `{:?}` of a string, near enough: quoted, with quotes and backslashes escaped. */
const q = (s: string) => JSON.stringify(s);

/** A number as Rust's `f64::from_str` reads one (no hex, no spaces), or NaN. */
function rustFloat(text: string): number {
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) || /^[+-]?(inf|infinity|nan)$/i.test(text) ? Number(text.replace(/inf(inity)?/i, "Infinity")) : NaN;
}

/**
 * Checks rows given as column → cell (cells already trimmed; a missing column reads as
 * ""). `name(k)` names the k-th row in reports (`line 2` for a file's first data row).
 */
export function checkRows(rows: Record<string, string>[], def: MeasureRules, sites: Set<string>, name: (k: number) => string): Checked {
  const good: GoodRow[] = [];
  const bad: string[] = [];
  const seen = new Map<string, string>();
  rows.forEach((row, k) => {
    const get = (c: string) => row[c] ?? "";
    const problems: string[] = [];
    const period = get("period");
    const pp = periodProblem(period);
    if (pp) problems.push(`period ${q(period)} is not a date: ${pp}`);
    const site = get("site");
    if (!sites.has(site)) problems.push(`site ${q(site)} is not a site of the network`);
    const group = get("group");
    if (group !== "all") {
      const at = group.indexOf("=");
      const dim = at < 0 ? "" : group.slice(0, at);
      const value = at < 0 ? "" : group.slice(at + 1);
      if (at >= 0 && dim && value) {
        if (!def.groupDimensions.includes(dim))
          problems.push(`group dimension ${q(dim)} is not one the measure breaks down by (${def.groupDimensions.join(", ")})`);
      } else problems.push(`group ${q(group)} is neither all nor dimension=value`);
    }
    const number = (c: string): number | null => {
      const text = get(c);
      if (text === "") return null;
      const v = rustFloat(text);
      if (Number.isFinite(v)) return v;
      problems.push(`${c} ${q(text)} is not a number`);
      return null;
    };
    const numerator = number("numerator");
    const denominator = number("denominator");
    const value = number("value");
    if (def.scoring === "proportion" || def.scoring === "ratio") {
      if (numerator !== null && denominator !== null) {
        if (denominator <= 0) problems.push("denominator must be above 0");
        else if (def.scoring === "proportion" && (numerator < 0 || numerator > denominator))
          problems.push(`numerator ${numerator} is outside 0..denominator (${denominator}) for a proportion`);
      } else problems.push("numerator and denominator are both required");
    } else if (def.scoring === "count" && numerator === null) problems.push("numerator (the count) is required");
    else if (def.scoring === "continuous" && value === null) problems.push("value is required");
    const nText = get("n");
    // Rust's u32::from_str: digits with an optional leading +, at most 2³² − 1.
    const n = /^\+?\d+$/.test(nText) && Number(nText) <= 0xffffffff ? Number(nText) : null;
    if (n === null) problems.push(`n ${q(nText)} is not a whole number of students`);
    const key = JSON.stringify([period, site, group]);
    const first = seen.get(key);
    if (first !== undefined) problems.push(`the same period, site and group as ${first}`);
    else seen.set(key, name(k));
    if (problems.length === 0)
      good.push({ site, id: `${period}/${group}`, period, group, numerator, denominator, value, n: n ?? 0, note: get("note") });
    else bad.push(`${name(k)}: ${problems.join("; ")}`);
  });
  return { good, bad };
}

/**
 * Reads CSV as the CLI's reader does (RFC 4180 quotes, `""` for a quote, CR/LF/CRLF line
 * ends, blank lines skipped, rows of any length): a list of records of fields.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  let started = false; // the record has a field or a separator
  const endField = () => {
    record.push(field);
    field = "";
  };
  const endRecord = () => {
    if (started) {
      endField();
      records.push(record);
    }
    record = [];
    started = false;
  };
  const s = text.replace(/^\uFEFF/, "");
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') field += s[++i];
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') {
      quoted = started = true;
    } else if (c === ",") {
      started = true;
      endField();
    } else if (c === "\r" || c === "\n") {
      if (c === "\r" && s[i + 1] === "\n") i++;
      endRecord();
    } else {
      started = true;
      field += c;
    }
  }
  endRecord();
  return records;
}

/** A file refused as a whole (header wrong), as the CLI words it. */
export class FileProblem extends Error {}

/** Checks a CSV file's text; line numbers count the header as line 1, as the CLI's do. */
export function checkCsv(text: string, def: MeasureRules, sites: Set<string>, fileName = "the file"): Checked {
  const records = parseCsv(text).map((r) => r.map((f) => f.trim()));
  if (records.length === 0) throw new FileProblem(`${fileName}: no header row`);
  const headers = records[0].map((h) => h.toLowerCase());
  const unknown = headers.filter((h) => !COLUMNS.includes(h));
  if (unknown.length > 0)
    throw new FileProblem(`${fileName}: unknown column(s) [${unknown.map(q).join(", ")}]; the columns are ${COLUMNS.join(", ")}`);
  for (const r of REQUIRED)
    if (!headers.includes(r)) throw new FileProblem(`${fileName}: the header has no ${r} column (see \`nic import measures --help\`)`);
  const rows = records.slice(1).map((rec) => {
    const row: Record<string, string> = {};
    for (const c of COLUMNS) {
      const i = headers.indexOf(c);
      row[c] = i >= 0 ? (rec[i] ?? "") : "";
    }
    return row;
  });
  return checkRows(rows, def, sites, (k) => `line ${k + 2}`);
}
