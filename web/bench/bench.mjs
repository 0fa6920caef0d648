// The web app's benchmark (not a test: run by hand, figures go to BENCHMARKS.md):
//  1. first meaningful paint of the network home — the overview table and the document list
//     drawn — for a network of N documents (default 1,000), on loopback, cold (a fresh
//     browser context: nothing cached, the app's files fetched) and warm (reloaded);
//  2. how long an edit in one browser takes to show in another: E single-character edits
//     typed into a worksheet field in one context, each timed until the other context's
//     field shows it (both pages share the machine's clock); p50/p95/p99.
//
//   cd web && node bench/run.mjs [--docs 1000] [--edits 300]
// Uses the hub and nic binaries as the tests do (NIC_HUB_BIN, NIC_BIN, NIC_WEB_DIR).

import { parseArgs } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import * as Automerge from "@automerge/automerge";
import { Documents } from "../src/gen/nic/v1/documents_pb.ts";
import { startHub, launch, signedIn } from "../test/harness.mjs";

const { values } = parseArgs({ options: { docs: { type: "string", default: "1000" }, edits: { type: "string", default: "300" } } });
const DOCS = Number(values.docs);
const EDITS = Number(values.edits);

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const fmt = (xs) => `p50 ${pct(xs, 50).toFixed(1)} ms, p95 ${pct(xs, 95).toFixed(1)} ms, p99 ${pct(xs, 99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms (n=${xs.length})`;

const hub = await startHub();
const browser = await launch();
try {
  // Fill the demo network up to DOCS documents: PDSA cycles at lincoln-hs, made as a client would.
  const transport = createGrpcWebTransport({
    baseUrl: hub.url.replace(/\/$/, ""),
    interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${hub.tokens.admin}`), next(req))],
  });
  const documents = createClient(Documents, transport);
  const existing = (await documents.list({ networkId: "algebra-readiness", pageSize: 1000 })).documents.length;
  const started = Date.now();
  for (let i = existing; i < DOCS; i++) {
    const doc = Automerge.change(Automerge.init(), (d) => {
      d.kind = new Automerge.ImmutableString("pdsa_cycle");
      d.schema = new Automerge.Uint(1);
      d.change_idea_id = new Automerge.ImmutableString("bench-idea");
      d.plan = {};
      d.plan.objective = `Benchmark cycle ${i}`;
    });
    await documents.create({ kind: 5, networkId: "algebra-readiness", siteId: "lincoln-hs", visibility: 1, title: `bench cycle ${i}`, initial: Automerge.save(doc) });
  }
  const total = (await documents.list({ networkId: "algebra-readiness", pageSize: 1000 })).documents.length;
  console.log(`network of ${total} documents (${total - existing} created in ${((Date.now() - started) / 1000).toFixed(1)} s)`);

  // 1. First meaningful paint of the network home.
  const home = `${hub.url}#/n/algebra-readiness`;
  // Times after navigation start (performance.now()) at which the page first showed each part.
  const painted = (page) =>
    page.evaluate(
      (n) =>
        new Promise((resolve) => {
          const at = {};
          const check = () => {
            const now = performance.now();
            if (!at.list && document.querySelectorAll("ul.docs li").length >= n) at.list = now;
            if (!at.overview && document.querySelector("table th[scope=row]")) at.overview = now;
            if (at.list && at.overview) resolve(at);
            else requestAnimationFrame(check);
          };
          check();
        }),
      Math.min(total, 1000) - 5,
    );
  const runs = { cold: { list: [], overview: [] }, kept: { list: [], overview: [] } };
  for (let i = 0; i < 14; i++) {
    const { context, page } = await signedIn(browser, hub, "lena", { remember: true });
    await page.goto(home);
    await page.waitForSelector("table th[scope=row]");
    // A fresh load of the page at the network home (the app's files revalidated, the
    // document list and the overview fetched again): every other run with nothing kept
    // on the device from an earlier visit (a first visit), the others with the list and
    // overview the last visit kept (drawn at once, then refreshed).
    const cold = i % 2 === 0;
    if (cold) await page.evaluate(() => Object.keys(localStorage).filter((k) => !k.endsWith(".session")).forEach((k) => localStorage.removeItem(k)));
    await page.reload({ waitUntil: "commit" });
    const at = await painted(page);
    const { list, overview } = runs[cold ? "cold" : "kept"];
    list.push(at.list);
    overview.push(at.overview);
    if (i === 0 && process.env.PROFILE) {
      const entries = await page.evaluate(() =>
        performance.getEntriesByType("resource").map((e) => [e.name.replace(location.origin, ""), Math.round(e.startTime), Math.round(e.responseEnd)]),
      );
      for (const [name, start, end] of entries) console.log(`  ${name}: ${start}–${end} ms`);
      console.log(`  list ${Math.round(at.list)} ms, overview ${Math.round(at.overview)} ms`);
    }
    await context.close();
  }
  for (const [name, { list, overview }] of Object.entries(runs)) {
    console.log(`network home, ${name === "cold" ? "first visit (nothing kept)" : "repeat visit (kept answers drawn first)"}: document list drawn after ${fmt(list)}`);
    console.log(`network home, ${name === "cold" ? "first visit (nothing kept)" : "repeat visit (kept answers drawn first)"}: change-idea overview drawn after ${fmt(overview)}`);
  }

  // 2. Edit propagation between two browsers.
  const a = await signedIn(browser, hub, "ana");
  const b = await signedIn(browser, hub, "ben");
  await a.page.goto(home);
  await a.page.click(`section[aria-labelledby=cycles-h] li:has-text("lincoln-hs") a >> nth=0`);
  await a.page.waitForSelector("#learning");
  await b.page.goto(a.page.url());
  await b.page.waitForSelector("#learning");
  await b.page.waitForSelector("[data-testid=presence]:has-text('Ana')");
  const lags = [];
  const gaps = [];
  for (let i = 0; i < EDITS; i++) {
    // Half the edits come one at a time (250 ms apart, as a person types a word and pauses);
    // half back to back (automerge-repo sends at most one sync message per 100 ms).
    const spaced = i < EDITS / 2;
    if (spaced) await new Promise((r) => setTimeout(r, 250));
    const mark = `${String.fromCharCode(97 + (i % 26))}`;
    const seen = b.page.evaluate(
      (len) =>
        new Promise((resolve) => {
          const el = document.querySelector("#learning");
          const check = () => (el.value.length >= len ? resolve(performance.timeOrigin + performance.now()) : setTimeout(check, 1));
          check();
        }),
      (await b.page.$eval("#learning", (el) => el.value.length)) + 1,
    );
    const sent = await a.page.evaluate((ch) => {
      const el = document.querySelector("#learning");
      el.focus();
      el.setSelectionRange(el.value.length, el.value.length);
      const t0 = performance.timeOrigin + performance.now();
      el.value += ch;
      el.dispatchEvent(new Event("input", { bubbles: true }));
      return t0;
    }, mark);
    (spaced ? gaps : lags).push((await seen) - sent);
  }
  console.log(`an edit in one browser visible in the other, edits 250 ms apart: ${fmt(gaps)}`);
  console.log(`an edit in one browser visible in the other, edits back to back: ${fmt(lags)}`);
} finally {
  await browser.close();
  await hub.stop();
}
