// A document's page: its title, who else is looking, the editor for its kind (read-only
// where the member's role is), and who changed what.

import type { DocHandle } from "@automerge/automerge-repo/slim";
import { Automerge } from "@automerge/automerge-repo/slim";
import { useEffect, useState } from "preact/hooks";
import { useDoc, usePresence, useSavedLocally } from "../hooks";
import { cachedMeta, fetchMeta, type Meta } from "../catalog";
import { mayWrite, type Session } from "../session";
import type { Replica } from "../repo";
import { DocKind } from "../gen/nic/v1/common_pb";
import { Presence } from "../components/Presence";
import { History } from "../components/History";
import { Feedback } from "../components/Feedback";
import { CycleWorksheet } from "./Cycle";
import { GenericDoc } from "./GenericDoc";
import { EmpathyInterviewForm } from "./forms/EmpathyInterview";
import { RootCauseAnalysisForm } from "./forms/RootCauseAnalysis";
import { EquityAuditForm } from "./forms/EquityAudit";
import { ImprovementPlanForm } from "./forms/ImprovementPlan";
import { t, kindName } from "../i18n";
import { href } from "../route";
import { errorText } from "../api";

interface Props {
  session: Session;
  replica: Replica;
  docId: string;
}

/** The page of one document. */
export function DocPage({ session, replica, docId }: Props) {
  const [meta, setMeta] = useState<Meta | null>(() => cachedMeta(session, docId));
  const [metaError, setMetaError] = useState("");
  useEffect(() => {
    setMeta(cachedMeta(session, docId));
    fetchMeta(session, docId).then(setMeta, (e) => setMetaError(errorText(e)));
  }, [docId]);
  const { doc, handle, error } = useDoc<any>(replica, docId);
  const viewers = usePresence(session, handle as DocHandle<unknown> | undefined);
  const saved = useSavedLocally(replica, handle as DocHandle<unknown> | undefined);
  if (error || (!meta && metaError)) {
    return (
      <section>
        <h1>{t("doc.unavailable")}</h1>
        <p role="alert">{metaError || error}</p>
      </section>
    );
  }
  if (!doc || !handle || !meta) return <p role="status">{t("loading")}</p>;
  const readOnly = !mayWrite(session, meta);
  const version = Automerge.getHeads(doc).join(",");
  return (
    <article class="doc" data-doc-kind={meta.kind}>
      <p class="crumbs">
        <a href={href({ page: "network", networkId: meta.networkId })}>{t("doc.back", { network: meta.networkId })}</a>
      </p>
      <h1>{meta.title || kindName(meta.kind)}</h1>
      <p class="muted">
        {kindName(meta.kind)} · {meta.siteId ? t("doc.site", { site: meta.siteId }) : t("doc.network_level")}
        {readOnly && <strong class="badge"> {t("doc.read_only")}</strong>}
      </p>
      <Presence viewers={viewers} />
      <p class="muted" data-testid="saved">
        {saved ? t("doc.saved") : t("doc.saving")}
      </p>
      {meta.kind === DocKind.PDSA_CYCLE ? (
        <CycleWorksheet session={session} replica={replica} meta={meta} handle={handle} doc={doc} readOnly={readOnly} />
      ) : meta.kind === DocKind.EMPATHY_INTERVIEW ? (
        <EmpathyInterviewForm session={session} replica={replica} meta={meta} handle={handle} doc={doc} readOnly={readOnly} />
      ) : meta.kind === DocKind.ROOT_CAUSE_ANALYSIS ? (
        <RootCauseAnalysisForm session={session} replica={replica} meta={meta} handle={handle} doc={doc} readOnly={readOnly} />
      ) : meta.kind === DocKind.EQUITY_AUDIT ? (
        <EquityAuditForm session={session} replica={replica} meta={meta} handle={handle} doc={doc} readOnly={readOnly} />
      ) : meta.kind === DocKind.IMPROVEMENT_PLAN ? (
        <ImprovementPlanForm session={session} replica={replica} meta={meta} handle={handle} doc={doc} readOnly={readOnly} />
      ) : (
        <GenericDoc doc={doc} />
      )}
      <Feedback session={session} replica={replica} meta={meta} />
      <History session={session} docId={docId} networkId={meta.networkId} version={version} />
    </article>
  );
}
