// The public family and community dashboard: lena (a network lead) turns it on from the
// network home; an anonymous browser (no sign-in, no token) opens #/public/NETWORK; every
// number it shows is checked against the Insight service's own values (the series export,
// as the hub admin: an outsider's view), no value Insight suppresses for any site shows up,
// axe finds nothing, and screenshots are taken at 1100 and 375 px.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { startHub, launch, signedIn, axe, shot, chromiumBin } from "./harness.mjs";

const NETWORK = "algebra-readiness";
const HIDDEN = "not shown to protect student privacy";

let hub;
let browser;

before(async () => {
  assert.ok(existsSync(chromiumBin), `no Chromium at ${chromiumBin}: apt-get install chromium, or set CHROMIUM_BIN`);
  hub = await startHub();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await hub?.stop();
});

/** An anonymous browser context on the public page, at `width` px. */
async function anonymous(width) {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error(`[anonymous] page error: ${e.message}`));
  await page.goto(`${hub.url}#/public/${NETWORK}`);
  return { context, page };
}

test("closed until a lead opens it; then every number matches Insight and nothing suppressed shows", async () => {
  // Before: the same answer as for a network that does not exist.
  {
    const { context, page } = await anonymous(1100);
    await page.waitForSelector("[role=alert]:has-text('There is no public dashboard here')");
    const closed = await page.evaluate(async (n) => (await fetch(`/public/${n}/dashboard.json`)).status, NETWORK);
    const none = await page.evaluate(async () => (await fetch(`/public/no-such-network/dashboard.json`)).status);
    assert.equal(closed, 404);
    assert.equal(none, 404);
    await context.close();
  }

  // lena turns it on from the network home.
  const { context: lenaContext, page: lenaPage } = await signedIn(browser, hub, "lena");
  await lenaPage.click("text=Algebra I Readiness NIC");
  await lenaPage.waitForSelector("h2#pub-toggle-h");
  const box = lenaPage.getByLabel("Publish the public dashboard");
  await lenaPage.waitForFunction(() => !document.querySelector(".pub-toggle input")?.disabled);
  assert.equal(await box.isChecked(), false);
  await box.check();
  await lenaPage.waitForSelector(".pub-toggle [role=status]:has-text('The public dashboard is on.')");
  await lenaPage.waitForSelector(`.pub-toggle a[href='#/public/${NETWORK}']`);
  assert.deepEqual(await axe(lenaPage), [], "axe on the network home with the public dashboard switch");
  await shot(lenaPage, "public-toggle");
  await lenaContext.close();

  // Insight's values, as the hub admin (no site: an outsider's view).
  const exported = JSON.parse(hub.nic("export", "series", "--measure", "On track for Algebra I", "--format", "json"));
  const suppressed = new Set();
  const shown = new Map();
  for (const s of exported.series) {
    for (const p of s.points) {
      const key = `${p.period}|${s.group}`;
      if (p.suppressed) suppressed.add(key);
      else shown.set(key, [...(shown.get(key) ?? []), p]);
    }
  }
  assert.ok([...suppressed].some((k) => k.endsWith("english_learner=yes")), "the demo has a small group");

  for (const width of [1100, 375]) {
    const { context, page } = await anonymous(width);
    await page.waitForSelector("h1:has-text('Algebra I Readiness NIC')");
    await page.waitForSelector("table.pub-table");
    // No token anywhere in this browser.
    assert.equal(await page.evaluate(() => Object.keys(localStorage).length + Object.keys(sessionStorage).length), 0);
    const cells = await page.$$eval("table.pub-table td[data-period]", (tds) =>
      tds.map((td) => ({
        period: td.dataset.period,
        group: td.dataset.group,
        value: td.dataset.value,
        n: td.dataset.n,
        withheld: td.dataset.withheld === "true",
        text: td.textContent,
      })),
    );
    assert.ok(cells.length > 0);
    let published = 0;
    for (const c of cells) {
      const key = `${c.period}|${c.group}`;
      if (c.withheld) {
        assert.equal(c.text, HIDDEN);
        continue;
      }
      assert.ok(!suppressed.has(key), `${key} is suppressed by Insight but the public page shows ${c.text}`);
      const points = shown.get(key);
      assert.ok(points, `${key} has no value in Insight`);
      const num = points.reduce((a, p) => a + p.numerator, 0);
      const den = points.reduce((a, p) => a + p.denominator, 0);
      const n = points.reduce((a, p) => a + p.n, 0);
      const value = (num / den) * 100;
      assert.ok(Math.abs(Number(c.value) - value) < 1e-9, `${key}: page ${c.value}, Insight ${value}`);
      assert.equal(Number(c.n), n, key);
      const shownText = `${new Intl.NumberFormat("en", { maximumFractionDigits: 1 }).format(value)}% (${new Intl.NumberFormat("en").format(n)} students)`;
      assert.equal(c.text, shownText, key);
      published += 1;
    }
    assert.ok(published > 0, "all students are shown");
    // Every (period, group) Insight suppresses at any site is withheld on the page.
    for (const key of suppressed) {
      const [period, group] = key.split("|");
      const cell = cells.find((c) => c.period === period && c.group === group);
      assert.ok(!cell || cell.withheld, `${key} should be withheld`);
    }
    // English learners are withheld, and so (complementary) is the other half of the line.
    for (const c of cells.filter((c) => c.group.startsWith("english_learner="))) assert.ok(c.withheld, `${c.group} ${c.period}`);
    // The chart has a text alternative; the aim and ideas are there in plain words.
    const label = await page.getAttribute("svg.pub-chart", "aria-label");
    assert.match(label, /For all students, On track for Algebra I went from/);
    assert.match(await page.textContent("article.public"), /What schools are trying/);
    // No document id in the page (Automerge URLs and ids are 16-byte base58: long tokens).
    const html = await page.content();
    for (const s of exported.series) assert.ok(!html.includes(s.site), `site ${s.site} on the public page`);
    assert.ok(!html.includes(exported.measure_id), "measure id on the public page");
    assert.deepEqual(await axe(page), [], `axe on the public page at ${width} px`);
    await shot(page, `public-${width}`);
    await context.close();
  }
});
