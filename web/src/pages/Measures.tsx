// A network's measures: each definition's type, scoring, unit and direction, and the sites
// whose all-students series shows an improvement or a concern (the Insight overview).

import { useEffect, useState } from "preact/hooks";
import type { Session } from "../session";
import type { Replica } from "../repo";
import { useCall, useDoc } from "../hooks";
import { cachedCatalog, fetchCatalog, type Meta } from "../catalog";
import { DocKind, Role } from "../gen/nic/v1/common_pb";
import type { MeasureStatus } from "../gen/nic/v1/insight_pb";
import { href } from "../route";
import { t } from "../i18n";
import { errorText } from "../api";
import { readDef } from "../measures/def";

function Row({ replica, meta, status, loading }: { replica: Replica; meta: Meta; status?: MeasureStatus; loading: boolean }) {
  const { doc } = useDoc<any>(replica, meta.docId);
  const def = doc ? readDef(doc) : null;
  const cell = (v: string | null | undefined) => (def ? v || "—" : t("loading"));
  return (
    <tr>
      <th scope="row">
        <a href={href({ page: "measure", measureId: meta.docId })}>{def?.name || status?.name || meta.title || meta.docId}</a>
      </th>
      <td>{cell(def && t(`measure.type.${def.measureType}` as any))}</td>
      <td>{cell(def && t(`measure.scoring.${def.scoring}` as any))}</td>
      <td>{cell(def?.unit)}</td>
      <td>{cell(def && t(`measure.direction.${def.direction}` as any))}</td>
      <td>{loading ? t("loading") : status ? status.improvementSites.join(", ") || t("measures.no_sites") : "—"}</td>
      <td>{loading ? t("loading") : status ? status.concernSites.join(", ") || t("measures.no_sites") : "—"}</td>
    </tr>
  );
}

/** The measures page. */
export function MeasuresPage({ session, replica, networkId }: { session: Session; replica: Replica; networkId: string }) {
  const [docs, setDocs] = useState<Meta[] | null>(() => cachedCatalog(session, networkId));
  const [listError, setListError] = useState("");
  useEffect(() => {
    fetchCatalog(session, networkId).then(setDocs, (e) => setListError(errorText(e)));
  }, [networkId]);
  const overview = useCall(() => session.api.insight.networkOverview({ networkId }), [networkId]);
  const measures = (docs ?? []).filter((d) => d.kind === DocKind.MEASURE_DEFINITION);
  return (
    <section aria-labelledby="measures-h">
      <p class="crumbs">
        <a href={href({ page: "network", networkId })}>{t("doc.back", { network: networkId })}</a>
      </p>
      <h1 id="measures-h">{t("measures.title")}</h1>
      <p>{t("measures.intro")}</p>
      {session.role !== Role.OBSERVER && (
        <p>
          <a class="button" href={href({ page: "data-entry", networkId })}>
            {t("home.nav_data")}
          </a>
        </p>
      )}
      {listError && !docs && <p role="alert">{listError}</p>}
      {overview.error && <p class="notice">{t("measures.overview_unavailable", { why: errorText(overview.error) })}</p>}
      {!docs ? (
        <p role="status">{t("loading")}</p>
      ) : measures.length === 0 ? (
        <p>{t("measures.none")}</p>
      ) : (
        <div class="scroll" tabIndex={0} role="region" aria-labelledby="measures-h">
          <table>
            <caption>{t("measures.caption")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("measures.name")}</th>
                <th scope="col">{t("measures.type")}</th>
                <th scope="col">{t("measures.scoring")}</th>
                <th scope="col">{t("measures.unit")}</th>
                <th scope="col">{t("measures.direction")}</th>
                <th scope="col">{t("measures.improving")}</th>
                <th scope="col">{t("measures.concern")}</th>
              </tr>
            </thead>
            <tbody>
              {measures.map((m) => (
                <Row key={m.docId} replica={replica} meta={m} status={overview.value?.measures.find((s) => s.measureId === m.docId)} loading={overview.loading} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
