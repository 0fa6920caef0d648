// Writing checked measure data points into each site's measure_data document for the
// measure, as `nic import measures` does: a point for a period and group already there is
// replaced, points stay in (period, group) order, and a site with no document for the
// measure gets one (site visibility: raw counts stay with the site).

import { Automerge } from "@automerge/automerge-repo/slim";
import { DocKind, Visibility } from "../gen/nic/v1/common_pb";
import { fetchCatalog } from "../catalog";
import { createDocument } from "../create";
import { find, type Replica } from "../repo";
import { sv } from "../model";
import type { Session } from "../session";
import type { GoodRow } from "./validate";

const str = (s: string) => new Automerge.ImmutableString(s);
const f64 = (v: number | null) => (v === null ? null : new Automerge.Float64(v));

/** Appends a point at index `i` of `points` (the map is made first, then its keys). */
function insertPoint(points: any, i: number, p: GoodRow) {
  points.insertAt(i, {});
  const m = points[i];
  m.id = str(p.id);
  m.period = str(p.period);
  m.group = str(p.group);
  m.numerator = f64(p.numerator);
  m.denominator = f64(p.denominator);
  m.value = f64(p.value);
  m.n = new Automerge.Uint(p.n);
  m.note = p.note;
}

/** Merges points into a measure_data document's content. */
export function mergePoints(d: any, points: GoodRow[]) {
  d.points ??= [];
  const order = (period: string, group: string) => `${period}\u0000${group}`;
  for (const p of points) {
    const old = (d.points as any[]).findIndex((x) => sv(x.id) === p.id);
    if (old >= 0) d.points.deleteAt(old);
    let at = (d.points as any[]).findIndex((x) => order(sv(x.period), sv(x.group)) > order(p.period, p.group));
    if (at < 0) at = d.points.length;
    insertPoint(d.points, at, p);
  }
}

/** The site's measure_data document for the measure, if the member can see one. */
export async function findDataDoc(s: Session, replica: Replica, networkId: string, measureId: string, siteId: string): Promise<string | null> {
  const docs = (await fetchCatalog(s, networkId)).filter((m) => m.kind === DocKind.MEASURE_DATA && m.siteId === siteId);
  for (const m of docs) {
    const h = await find<any>(replica, m.docId);
    if (sv(h.doc()?.measure_id) === measureId) return m.docId;
  }
  return null;
}

/** Writes the rows, site by site; returns the documents written. */
export async function writeRows(s: Session, replica: Replica, networkId: string, measureId: string, measureName: string, rows: GoodRow[]): Promise<string[]> {
  const bySite = new Map<string, GoodRow[]>();
  for (const r of rows) bySite.set(r.site, [...(bySite.get(r.site) ?? []), r]);
  const written: string[] = [];
  for (const [site, points] of bySite) {
    const existing = await findDataDoc(s, replica, networkId, measureId, site);
    if (existing) {
      const h = await find<any>(replica, existing);
      h.change((d: any) => mergePoints(d, points), { message: `Import ${points.length} points` });
      written.push(existing);
    } else {
      written.push(
        await createDocument(s, replica, {
          kind: DocKind.MEASURE_DATA,
          networkId,
          siteId: site,
          visibility: Visibility.SITE,
          title: `${measureName} — ${site}`,
          write: (d) => {
            d.kind = str("measure_data");
            d.schema = new Automerge.Uint(1);
            d.measure_id = str(measureId);
            d.points = [];
            mergePoints(d, points);
          },
        }),
      );
    }
  }
  return written;
}
