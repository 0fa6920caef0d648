// Members' display names, so a document's history and its viewers read as people, not ids.

import type { Session } from "./session";

const cache = new Map<string, Promise<Map<string, string>>>();

/** The network's members by id (cached for the page's life; empty when offline). */
export function memberNames(s: Session, networkId: string): Promise<Map<string, string>> {
  const key = `${s.memberId}/${networkId}`;
  let names = cache.get(key);
  if (!names) {
    names = (async () => {
      const out = new Map<string, string>([[s.memberId, s.displayName]]);
      let pageToken = "";
      do {
        const page = await s.api.directory.listMembers({ networkId, pageSize: 1000, pageToken });
        for (const m of page.members) out.set(m.memberId, m.displayName);
        pageToken = page.nextPageToken;
      } while (pageToken);
      return out;
    })().catch(() => {
      cache.delete(key);
      return new Map([[s.memberId, s.displayName]]);
    });
    cache.set(key, names);
  }
  return names;
}
