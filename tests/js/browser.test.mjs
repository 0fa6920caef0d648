// A web page co-editing a hub document in headless Chromium (Debian's package, driven with
// playwright-core): automerge-repo with its browser WebSocket adapter, bundled by esbuild,
// finds the document with a ticket, shows it, changes it; the change reaches a Node client
// and the hub's stored document, and the Node client's change shows in the page.
//
// The same flow first runs against automerge-repo's own Node server (the page and bundle
// are checked on their own). Run by .ci/run, after scripts/render-charts installed Chromium.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { generateAutomergeUrl, parseAutomergeUrl } from "@automerge/automerge-repo";
import * as Automerge from "@automerge/automerge";
import { nic, here, startHub } from "./hub.mjs";
import { WAIT_MS, openRepo, until, within, pdsaCycle, startReferenceServer } from "./repo.mjs";

const chromiumBin = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
const skipHub =
  "IssueSocketTicket" in nic.Directory.service
    ? false
    : "nic-hub has no WebSocket endpoint yet: proto/nic/v1/directory.proto has no Directory.IssueSocketTicket";

let site;
let browser;

/** Serves the page, its esbuild bundle and Automerge's wasm on an OS-chosen port. */
async function servePage() {
  const bundled = await build({
    entryPoints: [join(here, "browser", "page.mjs")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  const files = {
    "/": ["text/html", readFileSync(join(here, "browser", "index.html"))],
    "/page.js": ["text/javascript", bundled.outputFiles[0].contents],
    "/automerge.wasm": ["application/wasm", readFileSync(join(here, "node_modules", "@automerge", "automerge", "dist", "automerge.wasm"))],
  };
  const server = createServer((req, res) => {
    const file = files[new URL(req.url, "http://page").pathname];
    if (!file) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": file[0] }).end(file[1]);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${server.address().port}`, stop: () => new Promise((resolve) => server.close(resolve)) };
}

before(async () => {
  assert.ok(existsSync(chromiumBin), `no Chromium at ${chromiumBin}: apt-get install chromium, or set CHROMIUM_BIN`);
  site = await servePage();
  browser = await chromium.launch({ executablePath: chromiumBin, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  await site?.stop();
});

const objective = (d) => d.plan.objective;

/**
 * The page finds `docUrl` through `pageSocket` and shows it; its change reaches a Node
 * client on `nodeSocket`, whose change then shows in the page. Returns the Node client.
 */
async function pageAndNode(pageSocket, nodeSocket, docUrl, initial) {
  const page = await browser.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(e.message));
  const query = new URLSearchParams({ socket: pageSocket, doc: docUrl });
  await page.goto(`${site.origin}/?${query}`);
  await page.waitForFunction(() => document.getElementById("status").textContent !== "loading", null, { timeout: WAIT_MS });
  assert.equal(await page.textContent("#status"), "ready", problems.join("\n"));
  assert.equal(await page.textContent("#objective"), initial);

  const node = await openRepo(nodeSocket, "js-node");
  const handle = await within(node.repo.find(docUrl), "the Node client's find");
  await page.evaluate(() => window.edit("Browser: "));
  await until(handle, (d) => objective(d) === `Browser: ${initial}`, "the page's change at the Node client");
  handle.change((d) => Automerge.splice(d, ["plan", "objective"], 0, 0, "Node: "));
  await page.waitForFunction(
    (want) => document.getElementById("objective").textContent === want,
    `Node: Browser: ${initial}`,
    { timeout: WAIT_MS },
  );
  assert.deepEqual(problems, [], "errors in the page");
  await page.close();
  return node;
}

test("the page against automerge-repo's own server", async () => {
  const docUrl = generateAutomergeUrl();
  const server = await startReferenceServer({ [parseAutomergeUrl(docUrl).documentId]: pdsaCycle("Reference cycle") });
  try {
    const node = await pageAndNode(server.url, server.url, docUrl, "Reference cycle");
    await node.close();
  } finally {
    await server.stop();
  }
});

test("a page in headless Chromium co-edits a hub document through the browser adapter", { skip: skipHub }, async () => {
  const hub = await startHub();
  try {
    await hub.rpc("Directory", "CreateNetwork", { network_id: "web-net", name: "Web network" });
    await hub.rpc("Directory", "CreateSite", { network_id: "web-net", site_id: "lincoln", name: "Lincoln" });
    const member = { member_id: "ana", display_name: "Ana", role: "ROLE_SITE_MEMBER", network_ids: ["web-net"], site_id: "lincoln" };
    await hub.rpc("Directory", "AddMember", { member });
    const { secret } = await hub.rpc("Directory", "IssueToken", { member_id: "ana", label: "browser test" });
    const created = await hub.rpc("Documents", "Create", {
      kind: "DOC_KIND_PDSA_CYCLE",
      network_id: "web-net",
      site_id: "lincoln",
      visibility: "VISIBILITY_NETWORK",
      title: "Number talks",
      initial: Buffer.from(Automerge.save(pdsaCycle("Number talks"))),
    });
    const docId = created.meta.doc_id;
    // A web app gets its ticket with the member's token (gRPC-web, or its own server); the
    // page only ever sees the ticket.
    const socketUrl = async () => {
      const { ticket } = await hub.rpc("Directory", "IssueSocketTicket", {}, secret);
      return `ws://${hub.address}/automerge?ticket=${encodeURIComponent(ticket)}`;
    };
    const node = await pageAndNode(await socketUrl(), await socketUrl(), `automerge:${docId}`, "Number talks");
    await node.close();
    const stored = Automerge.load(new Uint8Array((await hub.rpc("Documents", "Get", { doc_id: docId })).document));
    assert.equal(objective(stored), "Node: Browser: Number talks");
  } finally {
    assert.equal(await hub.stop(), 0);
  }
});
