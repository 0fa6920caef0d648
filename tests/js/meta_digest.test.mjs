// `KnownDoc.meta_digest`, built from the recipe in proto/nic/v1/sync.proto alone, must
// give the proto's test vectors: a client in any language can then tell the hub which
// documents it already holds. (nic-model's meta.rs asserts the same vectors on the hub.)

import { test } from "node:test";
import assert from "node:assert/strict";

/** The digest of a DocumentMeta as the proto comment describes it. */
function metaDigest(meta) {
  const kind = meta.kind.replace(/^DOC_KIND_/, "").toLowerCase();
  const visibility = meta.visibility.replace(/^VISIBILITY_/, "").toLowerCase();
  const text = [
    meta.doc_id,
    kind,
    meta.network_id,
    meta.site_id ?? "",
    visibility,
    meta.title,
    BigInt(meta.created_at_ms).toString(10),
    meta.archived ? "true" : "false",
  ].join("\u0000");
  const mask = (1n << 64n) - 1n;
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(text)) {
    h = ((h ^ BigInt(b)) * 0x100000001b3n) & mask;
  }
  return h;
}

const first = {
  doc_id: "p3u5PhN9wrNpsGCwfkeef2LzF9",
  kind: "DOC_KIND_PDSA_CYCLE",
  network_id: "riverside",
  site_id: "lincoln-high",
  visibility: "VISIBILITY_SITE",
  title: "Exit tickets \u2014 cycle 2",
  created_at_ms: 1767225600000,
  archived: false,
};

test("the proto's first meta_digest test vector", () => {
  assert.equal(metaDigest(first), 0x3c0809306cad1591n);
});

test("the proto's second meta_digest test vector: no site, negative time, archived", () => {
  const second = {
    ...first,
    kind: "DOC_KIND_AIM",
    site_id: "",
    visibility: "VISIBILITY_NETWORK",
    title: "",
    created_at_ms: -1,
    archived: true,
  };
  assert.equal(metaDigest(second), 0x0b042eea53b11b56n);
});
