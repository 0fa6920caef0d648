// A measure definition as the measure pages read it (docs/SCHEMA.md `measure_definition`;
// absent fields read as the schema's defaults).

import { sv } from "../model";
import { textAt } from "../components/CollabText";
import { RuleSet } from "../gen/nic/v1/insight_pb";

/** What the pages show of a definition. */
export interface MeasureDef {
  name: string;
  measureType: string;
  scoring: string;
  unit: string;
  direction: string;
  groupDimensions: string[];
}

/** Reads a definition document's content. */
export function readDef(doc: any): MeasureDef {
  return {
    name: textAt(doc, ["name"]),
    measureType: sv(doc?.measure_type) || "outcome",
    scoring: sv(doc?.scoring) || "proportion",
    unit: sv(doc?.unit),
    direction: sv(doc?.direction) || "up",
    groupDimensions: ((doc?.group_dimensions ?? []) as unknown[]).map(sv),
  };
}

/** The chart kinds a measure may have: run charts and XmR always; P for a proportion, U
 * for a ratio (the Insight service refuses the others). */
export function ruleSetsFor(scoring: string): { id: RuleSet; key: string }[] {
  const sets = [
    { id: RuleSet.IHI, key: "ihi" },
    { id: RuleSet.ANHOJ, key: "anhoj" },
    { id: RuleSet.XMR, key: "xmr" },
  ];
  if (scoring === "proportion") sets.push({ id: RuleSet.P, key: "p" });
  if (scoring === "ratio") sets.push({ id: RuleSet.U, key: "u" });
  return sets;
}
