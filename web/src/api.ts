// The hub's gRPC API, called from the browser as gRPC-web on the page's own origin (the hub
// serves gRPC, gRPC-web, the WebSocket endpoint and this app on one port). Every call
// carries the signed-in member's token as `authorization: Bearer`, as the API requires.

import { createClient, type Client, type Interceptor, ConnectError, Code } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { Directory } from "./gen/nic/v1/directory_pb";
import { Documents } from "./gen/nic/v1/documents_pb";
import { Insight } from "./gen/nic/v1/insight_pb";

/** The clients of one signed-in session. */
export interface Api {
  directory: Client<typeof Directory>;
  documents: Client<typeof Documents>;
  insight: Client<typeof Insight>;
}

/** Clients that send `token` with every call. */
export function apiFor(token: string): Api {
  const auth: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
  const transport = createGrpcWebTransport({ baseUrl: location.origin, interceptors: [auth] });
  return {
    directory: createClient(Directory, transport),
    documents: createClient(Documents, transport),
    insight: createClient(Insight, transport),
  };
}

/** Whether an error means the token no longer signs anyone in (revoked, expired, removed). */
export function isSignedOut(e: unknown): boolean {
  return e instanceof ConnectError && e.code === Code.Unauthenticated;
}

/** Whether an error means the hub could not be reached (offline, hub down). */
export function isUnreachable(e: unknown): boolean {
  return e instanceof ConnectError && (e.code === Code.Unavailable || e.code === Code.Unknown) && !navigator.onLine
    ? true
    : e instanceof TypeError || (e instanceof ConnectError && e.code === Code.Unavailable);
}

/** The hub's message for an error, as a person can act on it. */
export function errorText(e: unknown): string {
  if (e instanceof ConnectError) return e.rawMessage;
  return e instanceof Error ? e.message : String(e);
}
