// Several documents of the replica followed at once (the coaching logs of a network, the
// networks' profiles), re-rendering when any of them changes.

import { useEffect, useState } from "preact/hooks";
import type { DocHandle } from "@automerge/automerge-repo/slim";
import { find, type Replica } from "../repo";

/** A followed document: its handle and latest content. */
export interface Followed<T> {
  docId: string;
  handle: DocHandle<T>;
  doc: T;
}

/** Follows every document in `ids` (those that cannot be opened are left out). */
export function useDocs<T>(replica: Replica, ids: string[]): Map<string, Followed<T>> {
  const [docs, setDocs] = useState<Map<string, Followed<T>>>(new Map());
  const key = [...ids].sort().join(",");
  useEffect(() => {
    let live = true;
    const handles: { handle: DocHandle<T>; on: () => void }[] = [];
    const current = new Map<string, Followed<T>>();
    setDocs(new Map());
    for (const docId of key ? key.split(",") : []) {
      find<T>(replica, docId).then(
        (handle) => {
          if (!live) return;
          const on = () => {
            if (!live) return;
            const doc = handle.doc();
            if (doc) current.set(docId, { docId, handle, doc });
            setDocs(new Map(current));
          };
          handle.on("change", on);
          handles.push({ handle, on });
          on();
        },
        () => {},
      );
    }
    return () => {
      live = false;
      for (const { handle, on } of handles) handle.off("change", on);
    };
  }, [replica, key]);
  return docs;
}
