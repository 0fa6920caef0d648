// Who is signed in: the member's token, kept in this tab (sessionStorage) or, when they ask
// to stay signed in on this device, in localStorage — needed to reconnect after working
// offline. What the hub said of the member (WhoAmI) is kept beside it, so the app can open
// offline and show the right rights.

import { apiFor, type Api } from "./api";
import { Role, type Member } from "./gen/nic/v1/common_pb";

const KEY = "nic-hub.session";

/** A signed-in member. */
export interface Session {
  token: string;
  memberId: string;
  displayName: string;
  role: Role;
  networkIds: string[];
  siteId: string;
  api: Api;
}

interface Stored {
  token: string;
  member: { memberId: string; displayName: string; role: number; networkIds: string[]; siteId: string };
}

function toSession(stored: Stored): Session {
  const m = stored.member;
  return { token: stored.token, ...m, role: m.role as Role, api: apiFor(stored.token) };
}

/** The session kept in this browser, if any. */
export function storedSession(): Session | null {
  const text = sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY);
  if (!text) return null;
  try {
    return toSession(JSON.parse(text) as Stored);
  } catch {
    return null;
  }
}

/** Signs in with a token: asks the hub who it belongs to, then keeps it. */
export async function signIn(token: string, remember: boolean): Promise<Session> {
  const trimmed = token.trim();
  const who = await apiFor(trimmed).directory.whoAmI({});
  const member = who.member as Member;
  const stored: Stored = {
    token: trimmed,
    member: {
      memberId: member.memberId,
      displayName: member.displayName,
      role: member.role,
      networkIds: [...member.networkIds],
      siteId: member.siteId,
    },
  };
  signOut();
  (remember ? localStorage : sessionStorage).setItem(KEY, JSON.stringify(stored));
  return toSession(stored);
}

/** Forgets the token on this device (the hub's record of it is unchanged). */
export function signOut() {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
}

/** What a member may do with a document, by the role rules the hub enforces. */
export function mayWrite(s: Session, meta: { networkId: string; siteId: string }): boolean {
  switch (s.role) {
    case Role.HUB_ADMIN:
      return true;
    case Role.NETWORK_LEAD:
      return s.networkIds.includes(meta.networkId);
    case Role.SITE_MEMBER:
      return meta.siteId !== "" && meta.siteId === s.siteId;
    default:
      return false;
  }
}

/** Whether the member leads the network (or runs the hub). */
export function leads(s: Session, networkId: string): boolean {
  return s.role === Role.HUB_ADMIN || (s.role === Role.NETWORK_LEAD && s.networkIds.includes(networkId));
}
