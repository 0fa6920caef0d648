// Measures, charts and data entry in headless Chromium against a real hub with the demo
// network: the measures list; a measure's charts (run chart, XmR, P; one site and small
// multiples) with their findings and point tables, suppressed points as the hub suppresses
// them; data entry refusing a bad row by name and writing nothing; a CSV file checked as
// `nic import measures` checks it (same bad lines, same reasons), a good one written and
// seen in the hub's series; observers get no data entry; axe on every page; screenshots.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startHub, launch, signedIn, axe, shot, shots, chromiumBin, until } from "./harness.mjs";

let hub;
let browser;
let measureId;
let tmp;

before(async () => {
  assert.ok(existsSync(chromiumBin), `no Chromium at ${chromiumBin}`);
  hub = await startHub();
  browser = await launch();
  tmp = mkdtempSync(join(tmpdir(), "nic-measures-"));
  const list = JSON.parse(hub.nic("docs", "list", "--kind", "measure_definition", "--json"));
  const rows = Array.isArray(list) ? list : (list.documents ?? list.docs ?? []);
  measureId = (rows[0]?.id ?? rows[0]?.meta?.id ?? rows[0]?.doc_id);
  assert.ok(measureId, `a demo measure: ${JSON.stringify(list).slice(0, 300)}`);
});

after(async () => {
  await browser?.close();
  await hub?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The hub's series for lincoln-hs, all students, as `nic series --json` gives it. */
function lincolnSeries() {
  const out = JSON.parse(hub.nic("series", measureId, "--site", "lincoln-hs", "--json"));
  return out.series.find((s) => s.site === "lincoln-hs" && s.group === "all");
}

/** Waits for the chart image and the findings of the current choice. */
async function chartShown(page) {
  await page.waitForFunction(() => {
    const img = document.querySelector("img.chart");
    return img && img.complete && img.naturalWidth > 0 && img.getAttribute("src").startsWith("data:image/svg+xml;base64,");
  });
  await page.waitForSelector("section.series .findings");
}

/** Picks an option of a select and waits for the page to settle on it. */
async function choose(page, select, value) {
  const before = await page.getAttribute("article.measure", "data-choice");
  await page.selectOption(select, value);
  await page.waitForFunction((b) => {
    const a = document.querySelector("article.measure");
    return a.dataset.choice !== b && a.dataset.ready === "true";
  }, before);
  await chartShown(page);
}

test("the measures page lists the network's measures with their scoring and signal sites", async () => {
  const { context, page } = await signedIn(browser, hub, "lena");
  await page.goto(`${hub.url}#/n/algebra-readiness`);
  await page.click("text=Measures and charts");
  await page.waitForSelector("h1:has-text('Measures')");
  const row = await page.waitForSelector("tr:has-text('On track for Algebra I'):has-text('proportion')");
  const text = await row.textContent();
  assert.match(text, /outcome measure/);
  assert.match(text, /%/);
  assert.match(text, /higher is better/);
  // The overview's improvement sites (the demo's sites improve after adopting).
  await page.waitForFunction(() => !document.querySelector("tbody tr").textContent.includes("Loading"));
  const cells = await page.$$eval("tbody tr td", (tds) => tds.map((td) => td.textContent));
  assert.match(cells[4], /^((adams-ms|jefferson-ms|lincoln-hs|roosevelt-hs)(, )?)+$|^no site$/, `improving at: ${cells[4]}`);
  await shot(page, "measures");
  assert.deepEqual(await axe(page), [], "axe on the measures page");
  await context.close();
});

test("a measure's charts render with their findings and point tables; P is offered for a proportion, U is not", async () => {
  const { context, page } = await signedIn(browser, hub, "lena");
  await page.goto(`${hub.url}#/m/${measureId}`);
  await page.waitForSelector("h1:has-text('On track for Algebra I')");
  await chartShown(page);
  const kinds = await page.$$eval("#m-rules option", (os) => os.map((o) => o.textContent));
  assert.deepEqual(kinds, ["Run chart (IHI rules)", "Run chart (Anhøj rules)", "XmR chart", "P chart"]);
  // Small multiples: every site's series, each with its findings.
  assert.ok(await page.$("img.chart.multiples"), "small multiples by default");
  assert.ok((await page.$$("section.series")).length >= 4, "one series per site");
  assert.match(await page.getAttribute("img.chart", "alt"), /every site/);
  await shot(page, "measure-multiples");
  assert.deepEqual(await axe(page), [], "axe on the small multiples");

  // One site, run chart: the IHI findings in words, matching the hub's series.
  await choose(page, "#m-site", "lincoln-hs");
  assert.ok(await page.$("img.chart:not(.multiples)"));
  const hub1 = lincolnSeries();
  const findings = await page.textContent("section.series .findings");
  for (const rule of new Set(hub1.signals.map((s) => s.rule))) {
    const words = { shift: "Shift", too_few_runs: "Too few runs", trend: "Trend", astronomical_point: "Astronomical point", too_many_runs: "Too many runs" }[rule];
    assert.ok(findings.includes(words), `finding ${rule} in ${findings}`);
  }
  const rows = await page.$$eval("table.points tbody tr", (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
  assert.equal(rows.length, hub1.points.length);
  assert.equal(rows[0][0], hub1.points[0].period);
  assert.equal(rows[0][1], (Math.round(hub1.points[0].value * 100) / 100).toString());
  await shot(page, "measure-run-chart");
  assert.deepEqual(await axe(page), [], "axe on a run chart");

  // XmR: limits in the table and XmR rules named.
  await choose(page, "#m-rules", "3");
  await page.waitForSelector("table.points th:has-text('Upper limit')");
  assert.match(await page.textContent("#chart-h"), /XmR/);
  assert.match(await page.textContent("section.series .findings"), /Mean/);
  await shot(page, "measure-xmr");
  assert.deepEqual(await axe(page), [], "axe on an XmR chart");

  // P chart: the demo measure is a proportion.
  await choose(page, "#m-rules", "4");
  await page.waitForSelector("table.points th:has-text('Upper limit')");
  assert.match(await page.textContent("section.series .findings"), /Overall proportion/);
  await shot(page, "measure-p");

  // P chart small multiples.
  await choose(page, "#m-site", "");
  assert.ok(await page.$("img.chart.multiples"));
  await context.close();
});

test("suppressed points show as suppressed with the hub's reason, and a focal group's gap is listed", async () => {
  const { context, page } = await signedIn(browser, hub, "lena");
  await page.goto(`${hub.url}#/m/${measureId}`);
  await chartShown(page);
  const hubSeries = JSON.parse(hub.nic("series", measureId, "--site", "adams-ms", "--group", "english_learner=yes", "--json")).series[0];
  const hidden = hubSeries.points.find((p) => p.suppressed);
  assert.ok(hidden, "the demo suppresses a small group at adams-ms");
  await choose(page, "#m-site", "adams-ms");
  await choose(page, "#m-group", "english_learner=yes");
  const cell = await page.textContent(`table.points tr:has(th:text-is("${hidden.period}")) td >> nth=0`);
  assert.equal(cell, `suppressed: ${hidden.suppressed}`);
  assert.doesNotMatch(cell, /\d+\.\d/);
  await choose(page, "#m-group", "all");
  await page.selectOption("#m-focal", "english_learner=yes");
  await page.waitForSelector("#gaps-h");
  await page.waitForSelector("caption:has-text('gap of english_learner=yes')");
  await shot(page, "measure-gap");
  assert.deepEqual(await axe(page), [], "axe with a gap table");
  // Narrow screens.
  await page.setViewportSize({ width: 375, height: 800 });
  await shot(page, "measure-375");
  await page.evaluate(() => scrollTo(0, 0));
  await page.screenshot({ path: join(shots, "measure-375-top.png") });
  await page.evaluate(() => document.querySelector("table.points").scrollIntoView());
  await page.screenshot({ path: join(shots, "measure-375-table.png") });
  assert.deepEqual(await axe(page), [], "axe at 375 px");
  await context.close();
});

/** Uploads `csv` on the data entry page. */
async function upload(page, name, csv) {
  await page.setInputFiles("#e-file", { name, mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.click("text=Check and import the file");
}

test("data entry refuses a bad row by name and writes nothing; a bad CSV is refused as the CLI refuses it; a good one is written", async () => {
  const { context, page } = await signedIn(browser, hub, "ana");
  await page.goto(`${hub.url}#/n/algebra-readiness/data`);
  await page.waitForSelector("h1:has-text('Enter measure data')");
  await page.waitForSelector("table.entry tbody tr:has-text('english_learner=yes')");
  assert.equal(await page.inputValue("#e-site"), "lincoln-hs");
  assert.ok(await page.isDisabled("#e-site"), "a site member enters data for their own site only");
  await shot(page, "data-entry");
  assert.deepEqual(await axe(page), [], "axe on the data entry page");

  // The form: one good group, one bad; nothing written, the bad group named.
  const bad = "2027-05-31";
  await page.fill("#e-period", bad);
  await page.fill("[aria-label='all Numerator']", "50");
  await page.fill("[aria-label='all Denominator']", "40");
  await page.fill("[aria-label='all Students (n)']", "40");
  await page.fill("[aria-label='english_learner=no Numerator']", "30");
  await page.fill("[aria-label='english_learner=no Denominator']", "35");
  await page.fill("[aria-label='english_learner=no Students (n)']", "35");
  await page.click("text=Save the values");
  const alert = await page.waitForSelector("[data-testid=entry-error]:has-text('rows are bad')");
  const said = await alert.textContent();
  assert.match(said, /1 of 2 rows are bad; nothing was written/);
  assert.match(said, /group all: numerator 50 is outside 0\.\.denominator \(40\) for a proportion/);
  await shot(page, "data-entry-refused");
  assert.deepEqual(await axe(page), [], "axe with the refusal shown");

  // A bad CSV: the same lines and reasons as `nic import measures`, and nothing written.
  const badCsv = [
    "period,site,group,numerator,denominator,n,note",
    "2027-05-24,lincoln-hs,all,60,120,120,fine",
    "2027-05-24,lincoln-hs,english_learner=yes,30,24,24,too many",
    "2027-05-24,lincoln-hs,english_learner=no,50,96,96,",
    "2027-02-30,lincoln-hs,grade=9,5,10,ten,\"quoted, with a comma\"",
    "2027-05-24,nowhere,english_learner,1,0,+5,",
    " 2027-05-24 , lincoln-hs ,all,0x10,1e2,7",
    "2026-13-01,lincoln-hs,all,,,",
  ].join("\n");
  await upload(page, "bad.csv", badCsv);
  await page.waitForSelector("form[aria-labelledby=upload-h] [data-testid=entry-error]:has-text('5 of 7 rows are bad')");
  const webLines = await page.$$eval("form[aria-labelledby=upload-h] [data-testid=entry-error] li", (lis) => lis.map((l) => l.textContent));
  await shot(page, "data-entry-csv-refused");
  assert.deepEqual(await axe(page), [], "axe with the file's refusal shown");
  const file = join(tmp, "bad.csv");
  writeFileSync(file, badCsv);
  let cliOut = "";
  assert.throws(() => hub.nic("import", "measures", "--measure", measureId, file), (e) => {
    cliOut = String(e.stderr) + String(e.stdout);
    return true;
  });
  const cliLines = cliOut.split("\n").map((l) => l.replace(/^\s*(error:\s*)?/, "")).filter((l) => /^line \d+: /.test(l));
  assert.deepEqual(webLines, cliLines, `web and CLI name the same bad lines:\n${cliOut}`);
  assert.match(webLines[0], /^line 3: numerator 30 is outside 0\.\.denominator \(24\)/);
  assert.match(webLines[1], /^line 5: period "2027-02-30" is not a date: February 2027 has no day 30/);
  const after = lincolnSeries();
  assert.ok(!after.points.some((p) => p.period === bad || p.period === "2027-05-24"), "nothing was written");

  // A header the CLI would refuse is refused as a whole, naming the column.
  await upload(page, "colour.csv", "period,site,group,n,colour\n2027-05-24,lincoln-hs,all,5,red\n");
  await page.waitForSelector(`form[aria-labelledby=upload-h] [data-testid=entry-error]:has-text('colour.csv: unknown column(s) ["colour"]')`);

  // A good CSV: written, confirmed, and in the hub's series.
  const good = [
    "Period, Site, Group, Numerator, Denominator, N, Note",
    "2027-05-17,lincoln-hs,all,84,120,120,after the spring push",
    "2027-05-17,lincoln-hs,english_learner=yes,15,24,24,",
    "",
    "2027-05-17,lincoln-hs,english_learner=no,69,96,96,\"line one, \"\"quoted\"\"\"",
  ].join("\r\n");
  await upload(page, "good.csv", good);
  await page.waitForSelector("[data-testid=entry-ok]:has-text('Saved 3 points in 1 site document')");
  await shot(page, "data-entry-written");
  const point = await until(() => lincolnSeries().points.find((p) => p.period === "2027-05-17"), 20000, "the new point at the hub");
  assert.equal(point.value, 70);
  assert.equal(point.n, 120);
  // And on the measure page.
  await page.click("text=see its charts");
  await chartShown(page);
  await choose(page, "#m-site", "lincoln-hs");
  await page.waitForSelector("table.points tr:has(th:text-is('2027-05-17')) td:text-is('70')");
  await context.close();
});

test("a lead enters one period for a site with the form", async () => {
  const { context, page } = await signedIn(browser, hub, "lena");
  await page.goto(`${hub.url}#/n/algebra-readiness/data`);
  await page.waitForSelector("table.entry tbody tr:has-text('english_learner=yes')");
  assert.ok(!(await page.isDisabled("#e-site")));
  await page.selectOption("#e-site", "roosevelt-hs");
  await page.fill("#e-period", "2027-05-17");
  await page.fill("[aria-label='all Numerator']", "40");
  await page.fill("[aria-label='all Denominator']", "80");
  await page.fill("[aria-label='all Students (n)']", "80");
  await page.click("text=Save the values");
  await page.waitForSelector("[data-testid=entry-ok]:has-text('Saved 1 points')");
  await until(() => {
    const s = JSON.parse(hub.nic("series", measureId, "--site", "roosevelt-hs", "--json")).series.find((x) => x.group === "all");
    return s.points.find((p) => p.period === "2027-05-17" && p.value === 50);
  }, 20000, "the lead's point at the hub");
  // Written into each site's existing document for the measure, not into new ones.
  const data = JSON.parse(hub.nic("docs", "list", "--kind", "measure_data", "--json"));
  assert.deepEqual(data.map((d) => d.site).sort(), ["adams-ms", "jefferson-ms", "lincoln-hs", "roosevelt-hs"]);
  await context.close();
});

test("an observer gets no data entry", async () => {
  const { context, page } = await signedIn(browser, hub, "otto");
  await page.goto(`${hub.url}#/n/algebra-readiness/measures`);
  await page.waitForSelector("tr:has-text('On track for Algebra I')");
  assert.equal(await page.$("a:has-text('Enter measure data')"), null, "no link to data entry");
  await page.goto(`${hub.url}#/n/algebra-readiness/data`);
  await page.waitForSelector("text=Observers read the network's data but do not enter it.");
  assert.equal(await page.$("form"), null, "no form");
  assert.equal(await page.$("input"), null, "no input");
  await shot(page, "data-entry-observer");
  assert.deepEqual(await axe(page), [], "axe on the observer's data entry page");
  await context.close();
});
