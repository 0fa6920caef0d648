// The documents a member may read in a network (`Documents.List`), remembered on this device
// so the network's pages open offline with the list they last saw.

import { DocKind, Visibility, type DocumentMeta } from "./gen/nic/v1/common_pb";
import type { Session } from "./session";

/** A document's catalogue entry, as the app keeps it. */
export interface Meta {
  docId: string;
  kind: DocKind;
  networkId: string;
  siteId: string;
  visibility: Visibility;
  title: string;
  updatedAtMs: number;
}

function fromProto(m: DocumentMeta): Meta {
  return {
    docId: m.docId,
    kind: m.kind,
    networkId: m.networkId,
    siteId: m.siteId,
    visibility: m.visibility,
    title: m.title,
    updatedAtMs: Number(m.updatedAtMs),
  };
}

const key = (s: Session, networkId: string) => `nic-hub.catalog.${s.memberId}.${networkId}`;

/** The network's documents as last seen on this device. */
export function cachedCatalog(s: Session, networkId: string): Meta[] | null {
  const text = localStorage.getItem(key(s, networkId));
  if (!text) return null;
  try {
    return JSON.parse(text) as Meta[];
  } catch {
    return null;
  }
}

/** Every document of the network the member may read, from the hub (all pages). */
export async function fetchCatalog(s: Session, networkId: string): Promise<Meta[]> {
  const all: Meta[] = [];
  let pageToken = "";
  do {
    const page = await s.api.documents.list({ networkId, pageSize: 1000, pageToken });
    all.push(...page.documents.map(fromProto));
    pageToken = page.nextPageToken;
  } while (pageToken);
  localStorage.setItem(key(s, networkId), JSON.stringify(all));
  return all;
}

/** Remembers one document's entry (after creating it, or opening it by link). */
export function remember(s: Session, meta: Meta) {
  const list = cachedCatalog(s, meta.networkId) ?? [];
  const rest = list.filter((m) => m.docId !== meta.docId);
  localStorage.setItem(key(s, meta.networkId), JSON.stringify([...rest, meta]));
}

/** A document's entry from any cached network. */
export function cachedMeta(s: Session, docId: string): Meta | null {
  for (let i = 0; i < localStorage.length; i++) {
    const k = localStorage.key(i);
    if (!k?.startsWith(`nic-hub.catalog.${s.memberId}.`)) continue;
    const found = (JSON.parse(localStorage.getItem(k) ?? "[]") as Meta[]).find((m) => m.docId === docId);
    if (found) return found;
  }
  return null;
}

/** A document's entry from the hub (Documents.Get carries it). */
export async function fetchMeta(s: Session, docId: string): Promise<Meta> {
  const got = await s.api.documents.get({ docId });
  const meta = fromProto(got.meta as DocumentMeta);
  remember(s, meta);
  return meta;
}

export { fromProto as metaFromProto };
