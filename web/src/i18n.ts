// Text shown to people, kept out of the components so it can be translated: English ships;
// a language is a file in `locales/` with the same keys (missing keys fall back to English).
// Times are shown in the viewer's own time zone and language.

import { en, type Messages } from "./locales/en";
import { es } from "./locales/es";

const catalogs: Record<string, Partial<Messages>> = { en, es };

/** Languages offered to viewers: those translated in full. */
const SHIPPED = ["en"];

/** The language the page is shown in: the browser's first one we ship, else English. */
export const lang: string =
  (navigator.languages ?? [navigator.language]).map((l) => l.slice(0, 2)).find((l) => SHIPPED.includes(l)) ?? "en";

const catalog = catalogs[lang] ?? en;

/** The text for `key`, with `{name}` placeholders filled from `vars`. */
export function t(key: keyof Messages, vars: Record<string, string | number> = {}): string {
  const text = (catalog[key] ?? en[key]) as string;
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? `{${name}}`));
}

const timeFormat = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });

/** A time (ms since the epoch) in the viewer's zone. */
export function when(ms: number | bigint): string {
  const n = Number(ms);
  return n > 0 ? timeFormat.format(new Date(n)) : t("time.unknown");
}

const KIND_KEYS: Record<number, keyof Messages> = {
  1: "kind.network_profile",
  2: "kind.aim",
  3: "kind.driver_diagram",
  4: "kind.change_idea",
  5: "kind.pdsa_cycle",
  6: "kind.measure_definition",
  7: "kind.measure_data",
  8: "kind.empathy_interview",
  9: "kind.root_cause_analysis",
  10: "kind.equity_audit",
  11: "kind.improvement_plan",
  12: "kind.coaching_log",
};

/** A document kind's name, for people. */
export function kindName(kind: number): string {
  const key = KIND_KEYS[kind];
  return key ? t(key) : t("kind.unknown");
}
