// The district view (Insight.DistrictOverview): every network the member has a role in,
// each with its change ideas' statuses by site and its measures' signals, and the equity
// lens codes counted across networks — each code's label and dimension as the networks'
// profiles (`network_profile.equity_codes`) define them, where the member may read them.

import { useState, useEffect } from "preact/hooks";
import type { Session } from "../session";
import { automergeReady } from "../repo";
import { Automerge } from "@automerge/automerge-repo/slim";
import { useCall } from "../hooks";
import { t, kindName } from "../i18n";
import { href } from "../route";
import { errorText } from "../api";
import { sv } from "../model";
import { DocKind } from "../gen/nic/v1/common_pb";
import type { NetworkOverviewResponse } from "../gen/nic/v1/insight_pb";
import { decisionText } from "./Compare";

interface Profile {
  equity_codes?: { id: string; dimension?: string; label?: string }[];
}

/** Where a code is defined: its label and dimension in one network. */
interface Definition {
  networkId: string;
  label: string;
  dimension: string;
}

/**
 * The equity codes the networks' profiles define (those the member may read), by code. Read
 * from the hub's snapshots (`Documents.Get`): the page needs the hub for the overview anyway.
 */
function useDefinitions(session: Session): Map<string, Definition[]> {
  const [defs, setDefs] = useState<Map<string, Definition[]>>(new Map());
  useEffect(() => {
    let live = true;
    (async () => {
      await automergeReady();
      const out = new Map<string, Definition[]>();
      let pageToken = "";
      do {
        const page = await session.api.documents.list({ kind: DocKind.NETWORK_PROFILE, pageSize: 1000, pageToken });
        for (const m of page.documents) {
          const got = await session.api.documents.get({ docId: m.docId }).catch(() => null);
          if (!got) continue;
          const profile = Automerge.load<Profile>(got.document);
          for (const c of profile.equity_codes ?? []) {
            const list = out.get(sv(c.id)) ?? [];
            list.push({ networkId: m.networkId, label: sv(c.label), dimension: sv(c.dimension) });
            out.set(sv(c.id), list);
          }
        }
        pageToken = page.nextPageToken;
      } while (pageToken);
      if (live) setDefs(out);
    })().catch(() => {});
    return () => {
      live = false;
    };
  }, [session]);
  return defs;
}

function dimensionName(d: string): string {
  return ["problem", "groups", "solution"].includes(d) ? t(`district.dimension_${d}` as any) : d || "—";
}

function NetworkSection({ n, name }: { n: NetworkOverviewResponse; name: string }) {
  const hid = `net-${n.networkId}`;
  const sites = [...new Set(n.changeIdeas.flatMap((c) => c.sites.map((s) => s.siteId)))].sort();
  return (
    <section class="district-network" aria-labelledby={hid} data-network={n.networkId}>
      <h2 id={hid}>
        <a href={href({ page: "network", networkId: n.networkId })}>{name}</a>
      </h2>
      <p class="muted">{t("district.cycles", { n: n.cycles, id: n.networkId })}</p>
      <h3 id={`${hid}-ideas`}>{t("district.ideas")}</h3>
      {n.changeIdeas.length === 0 ? (
        <p>{t("home.ideas_empty")}</p>
      ) : (
        <div class="scroll" tabIndex={0} role="region" aria-labelledby={`${hid}-ideas`}>
          <table>
            <caption class="sr-only">{t("district.ideas_caption", { network: name })}</caption>
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
              {n.changeIdeas.map((c) => (
                <tr key={c.changeIdea}>
                  <th scope="row">
                    {c.title || c.changeIdea}{" "}
                    <a href={href({ page: "compare", networkId: n.networkId, idea: c.changeIdea })}>({t("home.compare")})</a>
                  </th>
                  {sites.map((s) => {
                    const status = c.sites.find((x) => x.siteId === s)?.status ?? "";
                    return (
                      <td key={s} class={`status status-${status || "none"}`}>
                        {status ? t(`status.${status}` as any) : "—"}
                      </td>
                    );
                  })}
                  <td>{decisionText(c.decisions)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3>{t("home.measures")}</h3>
      {n.measures.length === 0 ? (
        <p>{t("district.no_measures")}</p>
      ) : (
        <ul>
          {n.measures.map((m) => (
            <li key={m.measureId}>
              <a href={href({ page: "doc", docId: m.measureId })}>{m.name || m.measureId}</a>
              {": "}
              {t("home.measure_signals", { up: m.improvementSites.join(", ") || "—", down: m.concernSites.join(", ") || "—" })}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The district page. */
export function DistrictPage({ session }: { session: Session }) {
  const district = useCall(() => session.api.insight.districtOverview({}), [session]);
  const networks = useCall(() => session.api.directory.listNetworks({ pageSize: 1000 }), [session]);
  const defs = useDefinitions(session);
  const nameOf = (id: string) => networks.value?.networks.find((n) => n.networkId === id)?.name || id;
  const v = district.value;
  return (
    <div class="district">
      <h1>{t("district.title")}</h1>
      {district.error ? (
        <p role="alert">{t("district.unavailable", { why: errorText(district.error) })}</p>
      ) : !v ? (
        <p role="status">{t("loading")}</p>
      ) : (
        <>
          {v.networks.length === 0 && <p>{t("networks.none")}</p>}
          {v.networks.map((n) => (
            <NetworkSection key={n.networkId} n={n} name={nameOf(n.networkId)} />
          ))}
          <section aria-labelledby="codes-h">
            <h2 id="codes-h">{t("district.codes")}</h2>
            <p>{t("district.codes_intro")}</p>
            {v.equityCodes.length === 0 ? (
              <p>{t("district.codes_none")}</p>
            ) : (
              <div class="scroll" tabIndex={0} role="region" aria-labelledby="codes-h">
                <table data-testid="codes">
                  <caption class="sr-only">{t("district.codes_caption")}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t("district.code")}</th>
                      <th scope="col">{t("district.label")}</th>
                      <th scope="col">{t("district.dimension")}</th>
                      <th scope="col">{t("district.count")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {v.equityCodes.map((c) => {
                      const found = defs.get(c.code) ?? [];
                      const many = v.networks.length > 1;
                      return (
                        <tr key={c.code} data-code={c.code}>
                          <th scope="row">{c.code}</th>
                          <td>
                            {found.length === 0
                              ? t("district.label_unknown")
                              : found.map((d, i) => (
                                  <span key={i}>
                                    {i > 0 && "; "}
                                    {d.label || "—"}
                                    {many && ` (${nameOf(d.networkId)})`}
                                  </span>
                                ))}
                          </td>
                          <td>{found.length === 0 ? "—" : [...new Set(found.map((d) => dimensionName(d.dimension)))].join("; ")}</td>
                          <td>{c.count}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )}
          </section>
          {v.unusableDocuments.length > 0 && (
            <section aria-labelledby="unusable-h">
              <h2 id="unusable-h">{t("compare.unusable")}</h2>
              <ul>
                {v.unusableDocuments.map((u) => (
                  <li key={u.docId}>
                    <a href={href({ page: "doc", docId: u.docId })}>{u.docId}</a> ({kindName(u.kind)}): {u.reason}
                  </li>
                ))}
              </ul>
            </section>
          )}
        </>
      )}
    </div>
  );
}
