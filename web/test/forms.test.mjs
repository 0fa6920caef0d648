// The inquiry forms in headless Chromium against a real hub with the demo network: for each
// kind (empathy interview, root-cause analysis, equity audit, improvement plan) a site
// member creates one, fills fields including a list entry, reloads and sees it; the hub
// reads it as its kind (`nic <kind> show`, `nic docs show`); an observer reads a shared
// one read-only, and a site-visible interview stays hidden from observers and other
// schools; axe-core finds nothing on each form; screenshots land in target/web-shots/.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { startHub, launch, signedIn, axe, shot, until, chromiumBin } from "./harness.mjs";

let hub;
let browser;
/** Documents made by the tests, by kind. */
const made = {};

before(async () => {
  assert.ok(existsSync(chromiumBin), `no Chromium at ${chromiumBin}: apt-get install chromium, or set CHROMIUM_BIN`);
  hub = await startHub();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await hub?.stop();
});

/** Opens the demo network's home. */
async function openNetwork(page) {
  await page.click("text=Algebra I Readiness NIC");
  await page.waitForSelector("h2#docs-h");
}

/** The document id in the page's address. */
const docIdOf = (page) => decodeURIComponent(page.url().split("/d/")[1]);

/** Waits until every edit is in the device's storage, then reloads and waits for `selector`. */
async function reload(page, selector) {
  await page.waitForSelector("[data-testid=saved]:has-text('Every edit is saved')");
  await page.reload();
  await page.waitForSelector(selector);
}

/** Waits until `nic …` (as the hub admin, from a fresh sync) prints all of `patterns`. */
async function hubShows(args, patterns) {
  let last = "";
  await until(
    () => {
      try {
        last = hub.nic(...args);
      } catch (e) {
        last = String(e.stderr ?? e);
        return false;
      }
      return patterns.every((p) => p.test(last));
    },
    30000,
    `nic ${args.join(" ")} to show ${patterns.join(", ")}`,
  ).catch((e) => {
    throw new Error(`${e.message}; it printed:\n${last}`);
  });
  return last;
}

/** Types `text` at the end of a field's text, as a person clicking after it would. */
async function append(page, sel, text) {
  await page.focus(sel);
  await page.$eval(sel, (el) => el.setSelectionRange(el.value.length, el.value.length));
  await page.keyboard.type(text);
}

/** Whether a field can be edited. */
const editable = (page, sel) => page.$eval(sel, (el) => !(el.readOnly || el.disabled));

test("a site member records an empathy interview: roles and groups, never names; kept to the site", async () => {
  const ana = await signedIn(browser, hub, "ana");
  await openNetwork(ana.page);
  await ana.page.click("text=Record an empathy interview");
  await ana.page.waitForSelector("h1:has-text('Record an empathy interview')");
  // The privacy guidance is on the form, and the visibility is fixed to the site.
  assert.match(await ana.page.textContent("[role=note].privacy"), /never by name/);
  assert.match(await ana.page.textContent("#visibility-note"), /other schools and observers do not/);
  assert.equal(await ana.page.$eval("#site", (el) => el.value), "lincoln-hs");
  // Creating without a role is refused, in words.
  await ana.page.click("button[type=submit]");
  assert.match(await ana.page.textContent("form [role=alert]"), /by role/);
  await ana.page.selectOption("#interviewee-role", "student");
  await ana.page.check("label:has-text('english_learner=yes') input");
  await ana.page.fill("#interview-date", "2026-10-05");
  assert.deepEqual(await axe(ana.page), [], "axe on the new-interview form");
  await shot(ana.page, "forms-new-interview");
  await ana.page.click("button[type=submit]");
  await ana.page.waitForSelector("h2#who-h");
  const id = docIdOf(ana.page);
  made.interview = id;

  // Fill it: a question (a list entry), notes, a theme, another group.
  await ana.page.fill("#questions-new", "What helps you most in math class?");
  await ana.page.click("#questions button:has-text('Add')");
  await ana.page.waitForSelector("#questions-0");
  await append(ana.page, "#questions-0", " And why?");
  await ana.page.type("#notes", "A student said the sentence frames helped her explain her thinking.");
  await ana.page.fill("#themes-new", "belonging");
  await ana.page.click("#themes button:has-text('Add')");
  await ana.page.waitForSelector("#themes .tag:has-text('belonging')");
  // A name where a group goes is refused.
  await ana.page.fill("#groups-new", "Maria Lopez");
  await ana.page.click("#groups button:has-text('Add')");
  assert.match(await ana.page.textContent("#groups [role=alert]"), /never a person's name/);
  await ana.page.fill("#groups-new", "newcomer=yes");
  await ana.page.click("#groups button:has-text('Add')");
  await ana.page.waitForSelector("#groups .tag:has-text('newcomer=yes')");

  await reload(ana.page, "#questions-0");
  assert.equal(await ana.page.$eval("#questions-0", (el) => el.value), "What helps you most in math class? And why?");
  assert.match(await ana.page.$eval("#notes", (el) => el.value), /sentence frames helped/);
  assert.equal(await ana.page.$eval("#interviewee-role", (el) => el.value), "student");
  assert.equal(await ana.page.$eval("#interview-date", (el) => el.value), "2026-10-05");
  assert.equal(await ana.page.$eval("#interviewer", (el) => el.value), "ana");
  await ana.page.waitForSelector("#themes .tag:has-text('belonging')");
  assert.deepEqual(await axe(ana.page), [], "axe on the interview");
  await shot(ana.page, "forms-interview");

  // The hub accepted it and reads it as an interview.
  await hubShows(["interview", "show", id], [/interviewed: student \(english_learner=yes, newcomer=yes\)/, /What helps you most in math class\? And why\?/, /sentence frames helped/, /belonging/, /2026-10-05/]);
  assert.match(hub.nic("docs", "show", id), /interviewer: ana/);

  // On a phone-sized screen.
  const phone = await signedIn(browser, hub, "ben", { viewport: { width: 375, height: 800 } });
  await phone.page.goto(`${hub.url}#/d/${id}`);
  await phone.page.waitForSelector("#questions-0");
  assert.equal(await phone.page.evaluate(() => document.documentElement.scrollWidth <= 375), true, "no sideways scrolling at 375 px");
  await shot(phone.page, "forms-interview-375");
  assert.deepEqual(await axe(phone.page), [], "axe on the interview at 375 px");
  await phone.context.close();
  await ana.context.close();
});

test("a site-visible interview is hidden from observers and from other schools", async () => {
  assert.ok(made.interview, "the interview test ran first");
  for (const who of ["otto", "rosa"]) {
    const { context, page } = await signedIn(browser, hub, who);
    await openNetwork(page);
    await page.waitForSelector("section[aria-labelledby=docs-h] ul.docs");
    assert.doesNotMatch(await page.textContent("section[aria-labelledby=docs-h]"), /Interview: Student/, `${who} does not see it listed`);
    await page.goto(`${hub.url}#/d/${made.interview}`);
    await page.waitForSelector("h1:has-text('This document is not available')");
    assert.equal(await page.$("#notes"), null, `${who} sees none of it`);
    await context.close();
  }
  // The observer has no forms to start.
  const otto = await signedIn(browser, hub, "otto");
  await openNetwork(otto.page);
  assert.equal(await otto.page.$("text=Record an empathy interview"), null);
  await otto.page.goto(`${hub.url}#/n/algebra-readiness/new/empathy_interview`);
  await otto.page.waitForSelector("[role=alert]:has-text('do not write them')");
  assert.equal(await otto.page.$("form"), null, "no form for an observer");
  await otto.context.close();
});

test("a site member builds a root-cause analysis; an observer reads it read-only", async () => {
  const ana = await signedIn(browser, hub, "ana");
  await openNetwork(ana.page);
  await ana.page.click("text=Start a root-cause analysis");
  await ana.page.waitForSelector("h1:has-text('Start a root-cause analysis')");
  await ana.page.fill("#problem", "Our 9th-grade English learners fail Algebra I at twice the rate of their peers");
  assert.deepEqual(await axe(ana.page), [], "axe on the new-analysis form");
  await shot(ana.page, "forms-new-rca");
  await ana.page.click("button[type=submit]");
  await ana.page.waitForSelector("h2#fishbone-h");
  const id = docIdOf(ana.page);
  made.rca = id;
  // The categories chosen at creation are there.
  await ana.page.waitForSelector("h3:has-text('Category: instruction')");

  // A cause with its evidence, a deeper cause, a 5-whys chain of two answers.
  const instruction = "section.category:has(h3:has-text('Category: instruction'))";
  await ana.page.click(`${instruction} button:has-text('Add a cause')`);
  const cause = `${instruction} fieldset.cause >> nth=0`;
  await ana.page.waitForSelector(cause);
  await ana.page.type(`${instruction} fieldset.cause textarea >> nth=0`, "Word problems assume fluent academic English");
  await ana.page.type(`${instruction} fieldset.cause textarea >> nth=1`, "Item analysis of the fall benchmark");
  await ana.page.click(`${instruction} button:has-text('Add a deeper cause')`);
  await ana.page.waitForSelector(`${instruction} fieldset.cause fieldset.cause`);
  await ana.page.type(`${instruction} fieldset.cause fieldset.cause textarea >> nth=0`, "No shared language objectives in math");
  await ana.page.fill("#new-chain", "Students disengage during word problems");
  await ana.page.click("text=Start the chain");
  await ana.page.waitForSelector("fieldset.textlist textarea");
  await ana.page.fill("fieldset.textlist input", "They cannot parse the vocabulary");
  await ana.page.click("fieldset.textlist button:has-text('Add')");
  await ana.page.waitForSelector("fieldset.textlist li >> nth=1");
  await ana.page.fill("#equity-codes-new", "problem-access");
  await ana.page.click("#equity-codes button:has-text('Add')");
  await ana.page.waitForSelector("#equity-codes .tag:has-text('problem-access')");

  await reload(ana.page, `${instruction} fieldset.cause fieldset.cause`);
  assert.equal(await ana.page.$eval(`${instruction} fieldset.cause textarea`, (el) => el.value), "Word problems assume fluent academic English");
  assert.equal(await ana.page.locator("fieldset.textlist textarea").nth(1).inputValue(), "They cannot parse the vocabulary");
  assert.deepEqual(await axe(ana.page), [], "axe on the analysis");
  await shot(ana.page, "forms-rca");

  const shown = await hubShows(["rca", "show", id], [/twice the rate/, /Word problems assume fluent academic English/, /Item analysis of the fall benchmark/, /No shared language objectives/, /They cannot parse the vocabulary/]);
  assert.match(shown, /instruction/);
  assert.match(hub.nic("docs", "show", id), /problem-access/);
  await ana.context.close();

  // An observer reads the network-visible analysis, read-only.
  const otto = await signedIn(browser, hub, "otto");
  await otto.page.goto(`${hub.url}#/d/${id}`);
  await otto.page.waitForSelector("text=Read only for your role");
  await otto.page.waitForSelector("fieldset.cause textarea");
  assert.equal(await editable(otto.page, "#problem"), false);
  assert.equal(await otto.page.$eval("fieldset.cause textarea", (el) => el.readOnly), true);
  assert.equal(await otto.page.$eval("fieldset.cause textarea", (el) => el.value), "Word problems assume fluent academic English");
  assert.equal(await otto.page.$("text=Add a cause"), null);
  assert.equal(await otto.page.$("#new-chain"), null);
  assert.equal(await otto.page.$("#cat-instruction-name").then((el) => el.evaluate((e) => e.readOnly)), true);
  assert.deepEqual(await axe(otto.page), [], "axe on the analysis, read-only");
  await shot(otto.page, "forms-rca-observer");
  await otto.context.close();
});

test("a site member records an equity audit with findings by group; an observer reads it read-only", async () => {
  const ana = await signedIn(browser, hub, "ana");
  await openNetwork(ana.page);
  await ana.page.click("text=Start an equity audit");
  await ana.page.waitForSelector("h1:has-text('Start an equity audit')");
  await ana.page.fill("#area", "course enrolment");
  await ana.page.fill("#sources", "Enrolment records 2025-26");
  assert.deepEqual(await axe(ana.page), [], "axe on the new-audit form");
  await shot(ana.page, "forms-new-audit");
  await ana.page.click("button[type=submit]");
  await ana.page.waitForSelector("h2#findings-h");
  const id = docIdOf(ana.page);

  // A group must be `all` or dimension=value.
  await ana.page.fill("#new-finding-group", "the quiet kids");
  await ana.page.click("text=Add a finding");
  await ana.page.waitForSelector("#new-finding-problem");
  await ana.page.fill("#new-finding-group", "english_learner=yes");
  await ana.page.click("text=Add a finding");
  await ana.page.waitForSelector("fieldset.finding legend:has-text('english_learner=yes')");
  await ana.page.type("fieldset.finding textarea", "Under-enrolled in honours Algebra: 4% against 19% of all students");
  await append(ana.page, "#sources", "; counselor interviews");

  await reload(ana.page, "fieldset.finding textarea");
  assert.match(await ana.page.$eval("fieldset.finding textarea", (el) => el.value), /Under-enrolled in honours Algebra/);
  assert.equal(await ana.page.$eval("#area", (el) => el.value), "course enrolment");
  assert.match(await ana.page.$eval("#sources", (el) => el.value), /Enrolment records 2025-26; counselor interviews/);
  assert.deepEqual(await axe(ana.page), [], "axe on the audit");
  await shot(ana.page, "forms-audit");
  await hubShows(["audit", "show", id], [/course enrolment/, /english_learner=yes/, /Under-enrolled in honours Algebra/, /counselor interviews/]);
  assert.match(hub.nic("docs", "show", id), /equity_audit|Equity audit|course enrolment/);
  await ana.context.close();

  const otto = await signedIn(browser, hub, "otto");
  await otto.page.goto(`${hub.url}#/d/${id}`);
  await otto.page.waitForSelector("text=Read only for your role");
  await otto.page.waitForSelector("fieldset.finding textarea");
  assert.equal(await editable(otto.page, "fieldset.finding textarea"), false);
  assert.equal(await editable(otto.page, "#area"), false);
  assert.equal(await otto.page.$("#new-finding-group"), null);
  assert.deepEqual(await axe(otto.page), [], "axe on the audit, read-only");
  await otto.context.close();
});

test("a site member writes an improvement plan linked to its analysis, aim, drivers and cycles", async () => {
  assert.ok(made.rca, "the analysis test ran first");
  const ana = await signedIn(browser, hub, "ana");
  await openNetwork(ana.page);
  await ana.page.click("text=Write an improvement plan");
  await ana.page.waitForSelector("h1:has-text('Write an improvement plan')");
  await ana.page.fill("#problem", "English learners are on track at half the rate of their peers");
  await ana.page.fill("#data-summary", "Fall benchmark: 31% of English learners on track, 62% of all students");
  await ana.page.waitForSelector(`#rca option[value='${made.rca}']`, { state: "attached" });
  await ana.page.selectOption("#rca", made.rca);
  assert.deepEqual(await axe(ana.page), [], "axe on the new-plan form");
  await shot(ana.page, "forms-new-plan");
  await ana.page.click("button[type=submit]");
  await ana.page.waitForSelector("h2#links-h");
  const id = docIdOf(ana.page);
  assert.equal(await ana.page.$eval("#rca", (el) => el.value), made.rca);

  // Link an aim, a driver, and one of Lincoln's cycles (list entries, chosen from the network's documents).
  await ana.page.waitForSelector("#aims input[type=checkbox]");
  await ana.page.check("#aims input[type=checkbox] >> nth=0");
  await ana.page.waitForSelector("#drivers label:has-text('Language supports for English learners')");
  await ana.page.check("#drivers li:has-text('Language supports for English learners') input");
  await ana.page.waitForSelector("#cycles li:has-text('(lincoln-hs)')");
  const cycleLabel = await ana.page.textContent("#cycles li:has-text('(lincoln-hs)') label >> nth=0");
  await ana.page.check("#cycles li:has-text('(lincoln-hs)') input >> nth=0");
  await append(ana.page, "#data-summary", " (October).");

  await reload(ana.page, "#cycles input[type=checkbox]");
  await ana.page.waitForSelector("#drivers li:has-text('Language supports for English learners') input:checked");
  assert.equal(await ana.page.isChecked("#aims input[type=checkbox] >> nth=0"), true);
  assert.equal(await ana.page.isChecked(`#cycles li:has-text("${cycleLabel}") input`), true);
  assert.match(await ana.page.$eval("#data-summary", (el) => el.value), /62% of all students \(October\)\.$/);
  assert.deepEqual(await axe(ana.page), [], "axe on the plan");
  await shot(ana.page, "forms-plan");

  const shown = await hubShows(["docs", "show", id], [/half the rate/, /\(October\)\./, /p3/]);
  assert.match(shown, new RegExp(made.rca));
  // `nic plan show` follows the links: the analysis's problem and the committed cycle.
  await hubShows(["plan", "show", id], [/root causes: Root causes: Our 9th-grade English learners/, /drivers: p3/, /planned cycles \(1\)/, /aim: By June 2027/]);
  await ana.context.close();

  // An observer reads the plan; the links cannot be changed.
  const otto = await signedIn(browser, hub, "otto");
  await otto.page.goto(`${hub.url}#/d/${id}`);
  await otto.page.waitForSelector("text=Read only for your role");
  await otto.page.waitForSelector("#drivers input:checked");
  assert.equal(await otto.page.$eval("#drivers input:checked", (el) => el.disabled), true);
  assert.equal(await otto.page.$eval("#rca", (el) => el.disabled), true);
  assert.equal(await editable(otto.page, "#problem"), false);
  assert.deepEqual(await axe(otto.page), [], "axe on the plan, read-only");
  await shot(otto.page, "forms-plan-observer");
  await otto.context.close();
});

test("a network lead starts a site-only audit for a school of their choice; observers do not see it", async () => {
  const lena = await signedIn(browser, hub, "lena");
  await openNetwork(lena.page);
  await lena.page.click("text=Start an equity audit");
  await lena.page.waitForSelector("#site option[value=roosevelt-hs]", { state: "attached" });
  // No site chosen yet: refused in words.
  await lena.page.fill("#area", "discipline");
  await lena.page.click("button[type=submit]");
  assert.match(await lena.page.textContent("form [role=alert]"), /Choose the site/);
  await lena.page.selectOption("#site", "roosevelt-hs");
  await lena.page.check("text=Only this site's team and the network's leads");
  await lena.page.click("button[type=submit]");
  await lena.page.waitForSelector("h2#findings-h");
  const id = docIdOf(lena.page);
  assert.match(await lena.page.textContent("article.doc"), /site roosevelt-hs/);
  assert.equal(await editable(lena.page, "#sources"), true, "the lead may write it");
  await lena.context.close();
  await hubShows(["audit", "show", id], [/discipline/]);
  assert.match(hub.nic("docs", "list"), /Equity audit: discipline/);

  const otto = await signedIn(browser, hub, "otto");
  await otto.page.goto(`${hub.url}#/d/${id}`);
  await otto.page.waitForSelector("h1:has-text('This document is not available')");
  await otto.context.close();
});
