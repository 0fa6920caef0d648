// Every document kind written from the published JSON Schema alone (docs/schema/*.json),
// as a tool builder in another language would: no fixture from the Rust side. The hub
// accepts each, `nic docs show` reads each, Insight compares the cycle; and a document
// that breaks its schema is refused on Create and through Sync with the field named,
// while the hub stays healthy.
//
// Run by .ci/run with NIC_HUB_BIN and NIC_BIN pointing at the built hub and `nic`.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Automerge from "@automerge/automerge";
import { here, startHub, Replica } from "./hub.mjs";

const schemaDir = join(here, "..", "..", "docs", "schema");
const nicBin = process.env.NIC_BIN ?? join(here, "..", "..", "target", "debug", "nic");

const schemas = readdirSync(schemaDir)
  .filter((f) => f.endsWith(".schema.json"))
  .map((f) => JSON.parse(readFileSync(join(schemaDir, f), "utf8")));

/** Follows a `$ref` within the kind's schema. */
const resolve = (root, s) => (s.$ref ? root.$defs[s.$ref.replace("#/$defs/", "")] : s);

/** A value for schema `s`, stored as the Automerge type its `x-automerge` names. */
function valueFor(root, s, name, depth) {
  s = resolve(root, s);
  if (s.anyOf) return valueFor(root, s.anyOf.find((a) => a.type !== "null"), name, depth);
  if (s.enum) return new Automerge.ImmutableString(s.default ?? s.enum[0]);
  switch (s["x-automerge"] ?? s.type) {
    case "text":
      return `Written from the schema: ${name}`;
    case "string":
      return new Automerge.ImmutableString(s.format === "date" ? "2026-11-02" : s["x-key"] ? "e1" : `${name}-1`);
    case "uint":
      return new Automerge.Uint(1);
    case "int":
      return Date.UTC(2026, 10, 30);
    case "f64":
      return new Automerge.Float64(12.5);
    case "boolean":
      return true;
    case "array":
      return depth > 2 ? [] : [valueFor(root, s.items, name, depth + 1)];
    case "object":
      return objectFor(root, s, depth + 1);
    default:
      throw new Error(`the schema names a type this test does not know: ${JSON.stringify(s)}`);
  }
}

function objectFor(root, s, depth) {
  const out = {};
  for (const [key, prop] of Object.entries(s.properties)) {
    out[key] = key === "kind" ? new Automerge.ImmutableString(prop.const) : valueFor(root, prop, key, depth);
  }
  return out;
}

/**
 * Writes `value` into the map `target` key by key. @automerge/automerge 3.5 stores a `Uint`
 * or `Float64` nested inside an object literal as a map holding `value`, so containers are
 * made empty first and every leaf is assigned to a key of an existing map (the hub would
 * refuse the literal, naming the field: "found a map").
 */
function assignDeep(target, value) {
  for (const [key, v] of Object.entries(value)) {
    if (Array.isArray(v)) {
      target[key] = [];
      for (const item of v) {
        if (item && typeof item === "object" && item.constructor === Object) {
          target[key].push({});
          assignDeep(target[key][target[key].length - 1], item);
        } else {
          target[key].push(item);
        }
      }
    } else if (v && typeof v === "object" && v.constructor === Object) {
      target[key] = {};
      assignDeep(target[key], v);
    } else {
      target[key] = v;
    }
  }
}

/** The kind's document, every field filled. */
function documentFor(root) {
  const value = objectFor(root, root, 0);
  return Automerge.change(Automerge.init(), (d) => assignDeep(d, value));
}

/** A top-level field whose plain JavaScript form is not its schema's type: the usual slip. */
function slip(root) {
  for (const [key, prop] of Object.entries(root.properties)) {
    const s = resolve(root, prop.anyOf ? prop.anyOf[0] : prop);
    // `kind` is the envelope; `schema` takes any non-negative integer, as older writers used.
    if (key === "kind" || key === "schema") continue;
    if (s["x-automerge"] === "string") return { key, value: "a plain string" };
    if (s["x-automerge"] === "uint") return { key, value: 2 };
    if (s["x-automerge"] === "f64") return { key, value: 12 };
  }
  const key = Object.keys(root.properties).find((k) => k !== "kind" && k !== "schema");
  return { key, value: new Automerge.Counter(1) };
}

const kindName = (root) => `DOC_KIND_${root.title.toUpperCase()}`;

/** Creates a document at the lincoln site, or network-level for a kind that must be. */
async function create(hub, root, initial) {
  const request = {
    kind: kindName(root),
    network_id: "schema-net",
    site_id: "lincoln",
    visibility: "VISIBILITY_NETWORK",
    title: `A ${root.title} from the schema`,
  };
  if (initial) request.initial = Buffer.from(Automerge.save(initial));
  try {
    return await hub.rpc("Documents", "Create", request);
  } catch (e) {
    if (!/network-level/.test(e.details ?? "")) throw e;
    return hub.rpc("Documents", "Create", { ...request, site_id: "" });
  }
}

test("every kind written from the JSON Schema alone is accepted and read back", async () => {
  assert.equal(schemas.length, 12, "one schema per kind");
  const hub = await startHub();
  const home = mkdtempSync(join(tmpdir(), "nic-cli-"));
  try {
    await hub.rpc("Directory", "CreateNetwork", { network_id: "schema-net", name: "Schema network" });
    await hub.rpc("Directory", "CreateSite", { network_id: "schema-net", site_id: "lincoln", name: "Lincoln" });
    const env = { ...process.env, NIC_CONFIG: join(home, "config.toml"), NIC_REPLICA: join(home, "replica") };
    const nic = (...args) => execFileSync(nicBin, args, { env, encoding: "utf8" });
    nic("login", "--hub", `http://${hub.address}`, "--token-file", join(hub.dataDir, "admin-token"));
    let cycle;
    for (const root of schemas) {
      const doc = documentFor(root);
      const created = await create(hub, root, doc);
      const id = created.meta.doc_id;
      // `nic docs show` reads it as its kind (it fails on a document it cannot read).
      const shown = nic("docs", "show", id);
      assert.match(shown, new RegExp(`${root.title}`), shown);
      if (root.title === "pdsa_cycle") cycle = { id, doc };
    }
    // Insight finds the cycle under its change idea.
    const compared = await hub.rpc("Insight", "CompareCycles", {
      network_id: "schema-net",
      change_idea: cycle.doc.change_idea_id.toString(),
    });
    const ids = compared.sites.flatMap((s) => s.cycles.map((c) => c.doc_id));
    assert.ok(ids.includes(cycle.id), `the cycle is compared: ${JSON.stringify(compared)}`);
    assert.deepEqual(compared.unusable_documents, [], "every cycle written from the schema is usable");
    // The network overview reads every kind it uses, and could use every document.
    const overview = await hub.rpc("Insight", "NetworkOverview", { network_id: "schema-net" });
    assert.deepEqual(overview.unusable_documents, [], JSON.stringify(overview.unusable_documents));
  } finally {
    rmSync(home, { recursive: true, force: true });
    assert.equal(await hub.stop(), 0);
  }
});

test("a document that breaks its schema is refused on Create and through Sync, naming the field", async () => {
  const hub = await startHub();
  try {
    await hub.rpc("Directory", "CreateNetwork", { network_id: "schema-net", name: "Schema network" });
    await hub.rpc("Directory", "CreateSite", { network_id: "schema-net", site_id: "lincoln", name: "Lincoln" });
    for (const root of schemas) {
      const { key, value } = slip(root);
      const bad = Automerge.change(documentFor(root), (d) => {
        d[key] = value;
      });
      await assert.rejects(create(hub, root, bad), (e) => {
        assert.ok(e.code !== undefined, `${root.title}: ${key} = ${JSON.stringify(value)} was accepted`);
        assert.equal(e.code, 3, `${root.title}: INVALID_ARGUMENT, got ${e.code} ${e.details}`);
        assert.ok(e.details.includes(`field ${key}:`), `${root.title}: ${e.details}`);
        return true;
      });
      // Through Sync: an empty document, then a first write that breaks the schema.
      const created = await create(hub, root, null);
      const id = created.meta.doc_id;
      const r = new Replica(hub.address, hub.metadata, `js-${root.title}`, id);
      r.subscribe();
      r.edit((d) => assignDeep(d, { kind: new Automerge.ImmutableString(root.title), [key]: value }));
      await r.until(() => r.errors.length > 0, `the DocError for ${root.title}`);
      assert.equal(r.errors[0].code, "ERROR_CODE_INVALID_ARGUMENT");
      assert.ok(r.errors[0].message.includes(`field ${key}:`), r.errors[0].message);
      r.close();
      // Nothing of it was stored, and the hub answers.
      const got = await hub.rpc("Documents", "Get", { doc_id: id });
      assert.equal(got.heads.length, 0, `${root.title}: the refused change was stored`);
    }
  } finally {
    assert.equal(await hub.stop(), 0);
  }
});

test("the README's worked example writes a cycle the product reads", async () => {
  const readme = readFileSync(join(here, "..", "..", "README.md"), "utf8");
  const block = readme.split("A PDSA\ncycle the product reads:\n\n```js\n")[1]?.split("```")[0];
  assert.ok(block, "the README's worked example is where this test looks for it");
  // The example as written, run with its import and the ids it assumes provided.
  const run = new Function("Automerge", "changeIdeaDocId", `${block.replace(/^import .*$/m, "")}\nreturn cycle;`);
  const cycle = run(Automerge, "number-talks");
  const hub = await startHub();
  const home = mkdtempSync(join(tmpdir(), "nic-cli-"));
  try {
    await hub.rpc("Directory", "CreateNetwork", { network_id: "schema-net", name: "Schema network" });
    await hub.rpc("Directory", "CreateSite", { network_id: "schema-net", site_id: "lincoln", name: "Lincoln" });
    const created = await hub.rpc("Documents", "Create", {
      kind: "DOC_KIND_PDSA_CYCLE",
      network_id: "schema-net",
      site_id: "lincoln",
      visibility: "VISIBILITY_NETWORK",
      title: "Number talks, cycle 1",
      initial: Buffer.from(Automerge.save(cycle)),
    });
    const env = { ...process.env, NIC_CONFIG: join(home, "config.toml"), NIC_REPLICA: join(home, "replica") };
    const nic = (...args) => execFileSync(nicBin, args, { env, encoding: "utf8" });
    nic("login", "--hub", `http://${hub.address}`, "--token-file", join(hub.dataDir, "admin-token"));
    const shown = nic("docs", "show", created.meta.doc_id);
    assert.match(shown, /number-talks/, shown);
    assert.match(shown, /20 of 28/, shown);
  } finally {
    rmSync(home, { recursive: true, force: true });
    assert.equal(await hub.stop(), 0);
  }
});
