// Creating a document: its first content is written here, in the browser, under this
// device's actor id, and given to the hub with `Documents.Create` (which checks it reads as
// its kind and binds the actor to the member); the replica then syncs it like any other.

import { Automerge, parseAutomergeUrl, generateAutomergeUrl } from "@automerge/automerge-repo/slim";
import { DocKind, Visibility } from "./gen/nic/v1/common_pb";
import { metaFromProto, remember } from "./catalog";
import { find, type Replica } from "./repo";
import type { Session } from "./session";

/** What a new document is, and how to write its first content. */
export interface NewDoc {
  kind: DocKind;
  networkId: string;
  siteId: string;
  visibility: Visibility;
  title: string;
  write: (d: any) => void;
}

/** Creates the document on the hub and returns its id. Needs the hub (not offline). */
export async function createDocument(s: Session, replica: Replica, n: NewDoc): Promise<string> {
  const { documentId } = parseAutomergeUrl(generateAutomergeUrl());
  const initial = Automerge.save(Automerge.change(Automerge.init<any>(), { message: "created", time: Date.now() }, n.write));
  const created = await s.api.documents.create({
    kind: n.kind,
    networkId: n.networkId,
    siteId: n.siteId,
    visibility: n.visibility,
    title: n.title.slice(0, 200),
    initial,
    docId: documentId,
  });
  if (created.meta) remember(s, metaFromProto(created.meta));
  await find(replica, documentId);
  return documentId;
}
