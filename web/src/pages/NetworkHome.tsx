// A network at a glance: its aim, its driver diagram, each change idea's status at each
// site (the Insight service's overview), its measures' signals, and its documents.

import { useEffect, useState } from "preact/hooks";
import { useDoc, useKeptCall } from "../hooks";
import { cachedCatalog, fetchCatalog, type Meta } from "../catalog";
import { DocKind } from "../gen/nic/v1/common_pb";
import { Role } from "../gen/nic/v1/common_pb";
import type { Session } from "../session";
import type { Replica } from "../repo";
import { href } from "../route";
import { kindName, t, when } from "../i18n";
import { errorText } from "../api";
import { textAt } from "../components/CollabText";
import { NewInquiryLinks } from "./forms/NewLinks";
import { PublicToggle } from "../public/PublicToggle";

interface Props {
  session: Session;
  /** Null until the replica is open: the page draws its lists first. */
  replica: Replica | null;
  networkId: string;
}

function Aim({ replica, docId }: { replica: Replica; docId: string }) {
  const { doc } = useDoc<any>(replica, docId);
  return (
    <section aria-labelledby="aim-h">
      <h2 id="aim-h">{t("home.aim")}</h2>
      <p class="aim">{doc ? textAt(doc, ["statement"]) || t("home.aim_empty") : t("loading")}</p>
      <a href={href({ page: "doc", docId })}>{t("home.open")}</a>
    </section>
  );
}

const LEVELS = ["aim", "primary", "secondary", "change"];

interface Node {
  id: string;
  level?: string;
  text?: string;
}

function DriverDiagram({ replica, docId }: { replica: Replica; docId: string }) {
  const { doc } = useDoc<any>(replica, docId);
  const nodes: Node[] = doc?.nodes ?? [];
  const links: { from?: string; to?: string }[] = doc?.links ?? [];
  // Links are read in either direction (the schema draws change → aim, some tools wrote
  // aim → change): a node's children are the linked nodes one level below it.
  const rank = (n: Node) => LEVELS.indexOf(String(n.level ?? "primary"));
  const childrenOf = (id: string) => {
    const self = nodes.find((n) => String(n.id) === id);
    if (!self) return [];
    const linked = links.flatMap((l) => (String(l.to) === id ? [String(l.from)] : String(l.from) === id ? [String(l.to)] : []));
    return nodes.filter((n) => linked.includes(String(n.id)) && rank(n) === rank(self) + 1);
  };
  const roots = nodes.filter((n) => String(n.level) === "aim");
  const tops = roots.length > 0 ? roots : nodes.filter((n) => String(n.level) === "primary");
  const render = (n: Node, depth: number): preact.JSX.Element => (
    <li key={`${n.id}-${depth}`}>
      <span class={`level level-${String(n.level ?? "primary")}`}>{t(`level.${String(n.level ?? "primary")}` as any)}</span> {textAt(n, ["text"]) || String(n.id)}
      {depth < 4 && childrenOf(String(n.id)).length > 0 && <ul>{childrenOf(String(n.id)).map((c) => render(c, depth + 1))}</ul>}
    </li>
  );
  return (
    <section aria-labelledby="drivers-h">
      <h2 id="drivers-h">{t("home.drivers")}</h2>
      {!doc ? <p>{t("loading")}</p> : nodes.length === 0 ? <p>{t("home.drivers_empty")}</p> : <ul class="tree">{tops.map((n) => render(n, 0))}</ul>}
      <a href={href({ page: "doc", docId })}>{t("home.open")}</a>
    </section>
  );
}

/** The network's home page. */
export function NetworkHome({ session, replica, networkId }: Props) {
  const [docs, setDocs] = useState<Meta[] | null>(() => cachedCatalog(session, networkId));
  const [listError, setListError] = useState("");
  useEffect(() => {
    setDocs(cachedCatalog(session, networkId));
    fetchCatalog(session, networkId).then(setDocs, (e) => setListError(errorText(e)));
  }, [networkId]);
  const overview = useKeptCall(`nic-hub.overview.${session.memberId}.${networkId}`, () => session.api.insight.networkOverview({ networkId }), [networkId]);
  const first = (kind: DocKind) => docs?.find((d) => d.kind === kind && !d.siteId) ?? docs?.find((d) => d.kind === kind);
  const aim = first(DocKind.AIM);
  const diagram = first(DocKind.DRIVER_DIAGRAM);
  const cycles = (docs ?? []).filter((d) => d.kind === DocKind.PDSA_CYCLE);
  const others = (docs ?? []).filter((d) => d.kind !== DocKind.PDSA_CYCLE);
  const sites = [...new Set((overview.value?.changeIdeas ?? []).flatMap((c) => c.sites.map((s) => s.siteId)))].sort();
  const canStart = session.role !== Role.OBSERVER;
  return (
    <div class="home">
      <h1>{t("home.title", { network: networkId })}</h1>
      <nav aria-label={t("home.nav")} class="subnav">
        <a href={href({ page: "measures", networkId })}>{t("home.nav_measures")}</a>
        {session.role !== Role.OBSERVER && <a href={href({ page: "data-entry", networkId })}>{t("home.nav_data")}</a>}
        <a href={href({ page: "coaching", networkId })}>{t("home.nav_coaching")}</a>
        <a href={href({ page: "district" })}>{t("home.nav_district")}</a>
        <a href={href({ page: "public", networkId })}>{t("home.nav_public")}</a>
      </nav>
      {listError && !docs && <p role="alert">{listError}</p>}
      {listError && docs && <p class="notice">{t("home.offline_list")}</p>}
      <div class="grid">
        {aim && replica ? (
          <Aim replica={replica} docId={aim.docId} />
        ) : (
          <section>
            <h2>{t("home.aim")}</h2>
            <p>{aim ? t("loading") : t("home.aim_empty")}</p>
          </section>
        )}
        {diagram && replica && <DriverDiagram replica={replica} docId={diagram.docId} />}
      </div>
      <section aria-labelledby="ideas-h">
        <h2 id="ideas-h">{t("home.ideas")}</h2>
        {overview.error && !overview.value ? (
          <p>{t("home.overview_unavailable", { why: errorText(overview.error) })}</p>
        ) : !overview.value ? (
          <p role="status">{t("loading")}</p>
        ) : overview.value.changeIdeas.length === 0 ? (
          <p>{t("home.ideas_empty")}</p>
        ) : (
          <div class="scroll" tabIndex={0} role="region" aria-labelledby="ideas-h">
            <table>
              <caption class="sr-only">{t("home.ideas_caption")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("home.idea")}</th>
                  {sites.map((s) => (
                    <th scope="col" key={s}>
                      {s}
                    </th>
                  ))}
                  <th scope="col">{t("home.decisions")}</th>
                </tr>
              </thead>
              <tbody>
                {overview.value.changeIdeas.map((c) => (
                  <tr key={c.changeIdea}>
                    <th scope="row">
                      {c.title || c.changeIdea}{" "}
                      <a href={href({ page: "compare", networkId, idea: c.changeIdea })}>({t("home.compare")})</a>
                    </th>
                    {sites.map((s) => {
                      const status = c.sites.find((x) => x.siteId === s)?.status ?? "";
                      return (
                        <td key={s} class={`status status-${status || "none"}`}>
                          {status ? t(`status.${status}` as any) : "—"}
                        </td>
                      );
                    })}
                    <td>
                      {t("home.decision_counts", {
                        adopt: c.decisions?.adopt ?? 0,
                        adapt: c.decisions?.adapt ?? 0,
                        abandon: c.decisions?.abandon ?? 0,
                        open: c.decisions?.open ?? 0,
                      })}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {overview.value && overview.value.measures.length > 0 && (
          <>
            <h3>{t("home.measures")}</h3>
            <ul>
              {overview.value.measures.map((m) => (
                <li key={m.measureId}>
                  <a href={href({ page: "measure", measureId: m.measureId })}>{m.name || m.measureId}</a>
                  {": "}
                  {t("home.measure_signals", {
                    up: m.improvementSites.join(", ") || "—",
                    down: m.concernSites.join(", ") || "—",
                  })}
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
      <section aria-labelledby="cycles-h">
        <h2 id="cycles-h">{t("home.cycles", { n: cycles.length })}</h2>
        {canStart && (
          <p>
            <a class="button" href={href({ page: "new-cycle", networkId })}>
              {t("home.new_cycle")}
            </a>
          </p>
        )}
        <DocList docs={cycles} />
      </section>
      <section aria-labelledby="docs-h">
        <h2 id="docs-h">{t("home.documents", { n: others.length })}</h2>
        {canStart && <NewInquiryLinks networkId={networkId} />}
        <DocList docs={others} showKind />
      </section>
      <PublicToggle session={session} networkId={networkId} />
    </div>
  );
}

function DocList({ docs, showKind }: { docs: Meta[]; showKind?: boolean }) {
  if (docs.length === 0) return <p>{t("home.none")}</p>;
  const sorted = [...docs].sort((a, b) => b.updatedAtMs - a.updatedAtMs);
  return (
    <ul class="docs">
      {sorted.map((d) => (
        <li key={d.docId}>
          <a href={href({ page: "doc", docId: d.docId })}>{d.title || kindName(d.kind)}</a>{" "}
          <span class="muted">
            {showKind && `${kindName(d.kind)} · `}
            {d.siteId || t("doc.network_level")} · {when(d.updatedAtMs)}
          </span>
        </li>
      ))}
    </ul>
  );
}
