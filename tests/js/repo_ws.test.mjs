// Real automerge-repo clients on nic-hub's WebSocket endpoint: @automerge/automerge-repo
// with its Node WebSocket client adapter, exactly as a JavaScript app uses them, find a
// document made through gRPC, change it, and converge with each other and with a
// nic-client replica (the `nic` command); an observer's change is refused; a document the
// member may not read is unavailable exactly like one that does not exist; revoking the
// token closes the socket; ephemeral messages reach the other clients.
//
// The same two-client flow first runs against automerge-repo's own Node server, so a
// failure on nic-hub alone is the hub's.
//
// Run by .ci/run with NIC_HUB_BIN and NIC_BIN pointing at the built hub and `nic`.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Repo, cbor, splice, generateAutomergeUrl, parseAutomergeUrl } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import * as Automerge from "@automerge/automerge";
import { nic, here, startHub, hex, sortedHeads } from "./hub.mjs";
import { openRepo, next, until, within, tryUpgrade, trySession, pdsaCycle, startReferenceServer } from "./repo.mjs";

const nicBin = process.env.NIC_BIN ?? join(here, "..", "..", "target", "debug", "nic");

/** The hub's endpoint is there once its ticket call is in proto/ (issue 21). */
const skip =
  "IssueSocketTicket" in nic.Directory.service
    ? false
    : "nic-hub has no WebSocket endpoint yet: proto/nic/v1/directory.proto has no Directory.IssueSocketTicket";

/** A network with two sites, three site members at lincoln, one at roosevelt, an observer, and two cycles. */
async function setUp(hub) {
  await hub.rpc("Directory", "CreateNetwork", { network_id: "ws-net", name: "WebSocket network" });
  for (const site of ["lincoln", "roosevelt"]) {
    await hub.rpc("Directory", "CreateSite", { network_id: "ws-net", site_id: site, name: site });
  }
  const members = {};
  for (const [id, role, site] of [
    ["ana", "ROLE_SITE_MEMBER", "lincoln"],
    ["ben", "ROLE_SITE_MEMBER", "lincoln"],
    ["nico", "ROLE_SITE_MEMBER", "lincoln"],
    ["rosa", "ROLE_SITE_MEMBER", "roosevelt"],
    ["olga", "ROLE_OBSERVER", ""],
  ]) {
    const member = { member_id: id, display_name: id, role, network_ids: ["ws-net"], site_id: site };
    await hub.rpc("Directory", "AddMember", { member });
    const issued = await hub.rpc("Directory", "IssueToken", { member_id: id, label: "repo_ws test" });
    members[id] = { token: issued.secret, tokenId: issued.token.token_id };
  }
  const create = async (site, visibility, objective) => {
    const initial = Buffer.from(Automerge.save(pdsaCycle(objective)));
    const request = { kind: "DOC_KIND_PDSA_CYCLE", network_id: "ws-net", site_id: site, visibility, title: objective, initial };
    return (await hub.rpc("Documents", "Create", request)).meta.doc_id;
  };
  const shared = await create("lincoln", "VISIBILITY_NETWORK", "Number talks at Lincoln");
  // Only Roosevelt's members and the network's leads read this one.
  const secret = await create("roosevelt", "VISIBILITY_SITE", "Roosevelt's own cycle");
  return { members, shared, secret };
}

/** The URL an automerge-repo client opens: the hub's main port, with a fresh ticket. */
async function socketUrl(hub, token) {
  const { ticket } = await hub.rpc("Directory", "IssueSocketTicket", {}, token);
  return `ws://${hub.address}/automerge?ticket=${encodeURIComponent(ticket)}`;
}

const automergeUrl = (docId) => `automerge:${docId}`;
const objective = (d) => d.plan.objective;

/**
 * Two clients find `docUrl` through the server, each one's change reaches the other, and
 * an ephemeral message from one reaches the other. Returns the open clients and handles.
 */
async function twoClients(urlA, urlB, docUrl, expectedObjective) {
  const a = await openRepo(urlA, "js-a");
  const b = await openRepo(urlB, "js-b");
  const ha = await within(a.repo.find(docUrl), "a's find");
  const hb = await within(b.repo.find(docUrl), "b's find");
  assert.equal(objective(ha.doc()), expectedObjective);
  assert.equal(objective(hb.doc()), expectedObjective);

  ha.change((d) => Automerge.splice(d, ["plan", "objective"], 0, 0, "JS: "), { message: "a from JavaScript" });
  await until(hb, (d) => objective(d).startsWith("JS: "), "a's change at b");
  hb.change((d) => Automerge.splice(d, ["plan", "who"], 0, 0, "Both algebra teachers"));
  await until(ha, (d) => d.plan.who === "Both algebra teachers", "b's change at a");

  // Ephemeral messages (cursors, presence) go through the server to the other client.
  const arrived = next(hb, "ephemeral-message", "a's ephemeral message at b");
  ha.broadcast({ cursor: { path: ["plan", "objective"], index: 4 } });
  const { message } = await arrived;
  assert.deepEqual(message, { cursor: { path: ["plan", "objective"], index: 4 } });
  return { a, b, ha, hb };
}

/**
 * A ticket that opens nothing (used, forged, or of a revoked token) gets an upgraded socket
 * that is told why and closed with 4401, never `peer`: not an HTTP 401, on which the Node
 * adapter throws when it reconnects.
 */
function assertTicketRefused(session, what) {
  assert.equal(session.status, undefined, `${what}: no HTTP refusal (${JSON.stringify(session)})`);
  assert.equal(session.close?.[0], 4401, `${what}: ${JSON.stringify(session)}`);
  assert.ok(!session.received.includes("peer") && !session.received.includes("sync"), `${what}: ${JSON.stringify(session)}`);
  assert.ok(session.received.includes("error"), `${what}: told why (${JSON.stringify(session)})`);
}

test("the harness against automerge-repo's own server: find, change both ways, ephemeral, unavailable", async () => {
  const docUrl = generateAutomergeUrl();
  const server = await startReferenceServer({ [parseAutomergeUrl(docUrl).documentId]: pdsaCycle("Reference cycle") });
  try {
    const { a, b, ha, hb } = await twoClients(server.url, server.url, docUrl, "Reference cycle");
    assert.deepEqual(sortedHeads(Automerge.getHeads(ha.doc())), sortedHeads(Automerge.getHeads(hb.doc())));
    await assert.rejects(within(a.repo.find(generateAutomergeUrl()), "an unknown document's find"), /is unavailable/);
    await a.close();
    await b.close();
  } finally {
    await server.stop();
  }
});

test("two automerge-repo clients and a nic replica converge on a hub document", { skip }, async () => {
  const hub = await startHub();
  const home = mkdtempSync(join(tmpdir(), "nic-repo-ws-"));
  try {
    const { members, shared } = await setUp(hub);
    const urlA = await socketUrl(hub, members.ana.token);
    const urlB = await socketUrl(hub, members.ben.token);

    // nico follows the network with a nic-client replica: `nic watch` prints what arrives.
    const env = { ...process.env, NIC_CONFIG: join(home, "config.toml"), NIC_REPLICA: join(home, "replica") };
    const nicCmd = (...args) => execFileSync(nicBin, args, { env, encoding: "utf8" });
    writeFileSync(join(home, "token"), members.nico.token);
    nicCmd("login", "--hub", `http://${hub.address}`, "--token-file", join(home, "token"));
    const watch = spawn(nicBin, ["--json", "-n", "ws-net", "watch", "--count", "1"], { env, stdio: ["ignore", "pipe", "inherit"] });
    const watchExit = new Promise((resolve) => watch.once("exit", resolve));
    const watchLines = createInterface({ input: watch.stdout });
    const watched = [];
    const watching = new Promise((resolve) =>
      watchLines.on("line", (line) => (line.startsWith("{") ? watched.push(JSON.parse(line)) : /^watching/.test(line) && resolve())),
    );
    await within(watching, "`nic watch` to be up to date");

    const { a, b, ha, hb } = await twoClients(urlA, urlB, automergeUrl(shared), "Number talks at Lincoln");
    assert.match(a.serverPeerId, /^nic-hub/, "the hub's peer id");
    // Each ticket opened one socket; it opens no other.
    assertTicketRefused(await trySession(urlA, shared), "a used ticket");

    // The replica heard a's change, authored by ana (the hub binds actors to members).
    assert.equal(await within(watchExit, "`nic watch --count 1` to exit"), 0);
    assert.equal(watched.length, 1, JSON.stringify(watched));
    assert.equal(watched[0].doc, shared);
    assert.deepEqual(watched[0].messages, ["a from JavaScript"]);
    assert.deepEqual(watched[0].authors, ["ana"]);

    // A change made with `nic` (its replica, then the hub) reaches both JavaScript clients.
    nicCmd("-n", "ws-net", "cycle", "observe", shared, "Seen from nic");
    const seen = (d) => (d.do?.observations ?? []).some((o) => String(o.text) === "Seen from nic");
    await until(ha, seen, "nic's observation at a");
    await until(hb, seen, "nic's observation at b");

    // All converge: both clients, the hub's stored document, and what `nic` reads.
    const got = await hub.rpc("Documents", "Get", { doc_id: shared });
    const hubHeads = sortedHeads(got.heads.map(hex));
    assert.deepEqual(sortedHeads(Automerge.getHeads(ha.doc())), hubHeads);
    assert.deepEqual(sortedHeads(Automerge.getHeads(hb.doc())), hubHeads);
    const stored = Automerge.load(new Uint8Array(got.document));
    assert.equal(objective(stored), "JS: Number talks at Lincoln");
    assert.equal(stored.plan.who, "Both algebra teachers");
    const shown = JSON.parse(nicCmd("--json", "-n", "ws-net", "docs", "show", shared));
    const text = JSON.stringify(shown);
    for (const part of ["JS: Number talks at Lincoln", "Both algebra teachers", "Seen from nic"]) {
      assert.ok(text.includes(part), `nic docs show lacks ${part}: ${text}`);
    }
    assert.equal(JSON.parse(nicCmd("--json", "status")).synced, true);
    await a.close();
    await b.close();
  } finally {
    rmSync(home, { recursive: true, force: true });
    assert.equal(await hub.stop(), 0, "the hub exits cleanly on SIGTERM");
  }
});

test("an observer's change through automerge-repo is refused: neither stored nor relayed", { skip }, async () => {
  const hub = await startHub();
  try {
    const { members, shared } = await setUp(hub);
    const a = await openRepo(await socketUrl(hub, members.ana.token), "js-ana");
    const o = await openRepo(await socketUrl(hub, members.olga.token), "js-olga");
    const sent = [];
    const send = o.adapter.send.bind(o.adapter);
    o.adapter.send = (message) => {
      sent.push(message);
      send(message);
    };
    const ha = await within(a.repo.find(automergeUrl(shared)), "ana's find");
    const ho = await within(o.repo.find(automergeUrl(shared)), "the observer's find (it may read)");

    // automerge-repo, told by the hub's sync messages that the hub takes no changes from
    // this peer (Automerge's read-only sync flag), keeps the observer's change to itself.
    const before = ho.doc();
    ho.change((d) => {
      d.observer_note = "written by an observer";
    });
    const changed = ho.doc();
    // The hub goes on serving: ana's next change reaches the observer.
    ha.change((d) => Automerge.splice(d, ["plan", "objective"], 0, 0, "After the refusal: "));
    await until(ho, (d) => objective(d).startsWith("After the refusal: "), "ana's change at the observer");
    const carried = sent.filter((m) => m.type === "sync").flatMap((m) => Automerge.decodeSyncMessage(m.data).changes);
    assert.deepEqual(carried, [], "the observer's client sent changes");

    // A client that sends the change anyway gets an error, and the hub neither stores nor
    // relays it.
    const refused = next(o.adapter, "test-received", "the hub's error message", (m) => m.type === "error");
    const forced = Automerge.encodeSyncMessage({
      heads: Automerge.getHeads(changed),
      need: [],
      have: [],
      changes: Automerge.getChanges(before, changed),
    });
    o.adapter.send({ type: "sync", senderId: "js-olga", targetId: o.serverPeerId, documentId: parseAutomergeUrl(automergeUrl(shared)).documentId, data: forced });
    const error = await refused;
    assert.match(error.message, /may not change/, JSON.stringify(error));
    ha.change((d) => Automerge.splice(d, ["plan", "objective"], 0, 0, "Still: "));
    await until(ho, (d) => objective(d).startsWith("Still: "), "ana's second change at the observer");
    assert.equal(ha.doc().observer_note, undefined, "the refused change reached ana");
    const stored = Automerge.load(new Uint8Array((await hub.rpc("Documents", "Get", { doc_id: shared })).document));
    assert.equal(objective(stored), "Still: After the refusal: Number talks at Lincoln");
    assert.equal(stored.observer_note, undefined, "the refused change was stored");
    await a.close();
    await o.close();
  } finally {
    assert.equal(await hub.stop(), 0);
  }
});

test("a document the member may not read is unavailable exactly like one that does not exist", { skip }, async () => {
  const hub = await startHub();
  try {
    const { members, secret } = await setUp(hub);
    const a = await openRepo(await socketUrl(hub, members.ana.token), "js-ana");
    const unknown = parseAutomergeUrl(generateAutomergeUrl()).documentId;
    const failure = (docId) => within(a.repo.find(automergeUrl(docId)), `the find of ${docId}`).then(
      () => assert.fail(`${docId} was found`),
      (e) => e,
    );
    const [forbidden, missing] = [await failure(secret), await failure(unknown)];
    assert.match(forbidden.message, /is unavailable/);
    assert.equal(forbidden.message.replace(secret, "ID"), missing.message.replace(unknown, "ID"));

    // On the wire too: one doc-unavailable each, the same but for the id, and nothing else
    // about the unreadable document.
    const said = (docId) => a.adapter.received.filter((m) => m.documentId === docId);
    assert.deepEqual(said(secret).map((m) => m.type), ["doc-unavailable"]);
    assert.deepEqual({ ...said(secret)[0], documentId: "ID" }, { ...said(unknown)[0], documentId: "ID" });
    await a.close();

    // The document exists: the hub admin finds it through the same endpoint.
    const admin = await openRepo(await socketUrl(hub, hub.token), "js-admin");
    const found = await within(admin.repo.find(automergeUrl(secret)), "the admin's find");
    assert.equal(objective(found.doc()), "Roosevelt's own cycle");
    await admin.close();
  } finally {
    assert.equal(await hub.stop(), 0);
  }
});

test("an ephemeral message about a document reaches only its readers", { skip }, async () => {
  const hub = await startHub();
  try {
    const { members, shared, secret } = await setUp(hub);
    const a = await openRepo(await socketUrl(hub, members.ana.token), "js-ana");
    const r = await openRepo(await socketUrl(hub, members.rosa.token), "js-rosa");
    await within(a.repo.find(automergeUrl(shared)), "ana's find");
    const hr = await within(r.repo.find(automergeUrl(shared)), "rosa's find of the shared cycle");
    await within(r.repo.find(automergeUrl(secret)), "rosa's find of her site's cycle");
    // ana writes about the cycle she may not read, by hand as a hostile client would, then
    // about the shared one; the hub relays a socket's messages in order, so once the second
    // has reached rosa the first would have too.
    const ephemeral = (documentId, count, body) => ({
      type: "ephemeral",
      senderId: "js-ana",
      targetId: a.serverPeerId,
      documentId,
      count,
      sessionId: "hostile",
      data: new Uint8Array(cbor.encode(body)),
    });
    a.adapter.send(ephemeral(secret, 1, { probe: "about the secret cycle" }));
    const arrived = next(hr, "ephemeral-message", "ana's ephemeral message about the shared cycle at rosa");
    a.adapter.send(ephemeral(shared, 2, { probe: "about the shared cycle" }));
    assert.deepEqual((await arrived).message, { probe: "about the shared cycle" });
    assert.deepEqual(r.adapter.of("ephemeral").map((m) => m.documentId), [shared], "only the shared cycle's message reached rosa");
    await a.close();
    await r.close();
  } finally {
    assert.equal(await hub.stop(), 0);
  }
});

test("revoking the token closes the socket, and no ticket of it opens another", { skip }, async () => {
  const hub = await startHub();
  try {
    const { members, shared } = await setUp(hub);
    const spare = await socketUrl(hub, members.ana.token); // issued before the revocation, never used
    const url = await socketUrl(hub, members.ana.token);
    const a = await openRepo(url, "js-ana");
    await within(a.repo.find(automergeUrl(shared)), "ana's find");

    const closed = next(a.adapter, "test-closed", "the socket to close");
    const disconnected = next(a.adapter, "peer-disconnected", "the adapter's peer-disconnected");
    await hub.rpc("Directory", "RevokeToken", { token_id: members.ana.tokenId });
    const { code, reason } = await closed;
    await disconnected;
    assert.ok(code === 4401 || code === 4403, `close code ${code} (${reason})`);
    assert.ok(reason.length > 0, "the close says why");

    assertTicketRefused(await trySession(url, shared), "the old ticket");
    // A ticket issued before the revocation and never used gets no session: the hub checks
    // the token as the session starts and closes it before its `peer` message.
    const late = await trySession(spare, shared);
    assertTicketRefused(late, "an unused ticket of the revoked token");
    assert.equal((await tryUpgrade(`ws://${hub.address}/automerge`)).status, 401, "no ticket");
    assertTicketRefused(await trySession(`ws://${hub.address}/automerge?ticket=forged`, shared), "a forged ticket");
    await assert.rejects(hub.rpc("Directory", "IssueSocketTicket", {}, members.ana.token), (e) => e.code === 16);
    await a.close();
  } finally {
    assert.equal(await hub.stop(), 0);
  }
});

test("the README's automerge-repo example runs as written", { skip }, async () => {
  const readme = readFileSync(join(here, "..", "..", "README.md"), "utf8");
  const block = readme.split("never goes into a URL:\n\n```js\n")[1]?.split("```")[0];
  assert.ok(block, "the README's example is where this test looks for it");
  const hub = await startHub();
  try {
    const { members, shared } = await setUp(hub);
    // The example as written, its imports provided and pointed at this test's hub.
    const body = block.replace(/^import .*$/gm, "").replaceAll("127.0.0.1:50051", hub.address);
    const AsyncFunction = (async () => {}).constructor;
    const run = new AsyncFunction("Repo", "splice", "WebSocketClientAdapter", "issueSocketTicket", "docId", `${body}\nreturn { repo, adapter };`);
    const issueSocketTicket = () => hub.rpc("Directory", "IssueSocketTicket", {}, members.ana.token);
    const { repo, adapter } = await within(run(Repo, splice, WebSocketClientAdapter, issueSocketTicket, shared), "the example");
    adapter.retryInterval = 0;
    const b = await openRepo(await socketUrl(hub, members.ben.token), "js-ben");
    const hb = await within(b.repo.find(automergeUrl(shared)), "ben's find");
    await until(hb, (d) => objective(d) === "Revised: Number talks at Lincoln", "the example's change at ben");
    await repo.shutdown();
    await b.close();
  } finally {
    assert.equal(await hub.stop(), 0);
  }
});
