// The web app in headless Chromium against a real hub with the demo network: signing in
// per role, creating a cycle, two people co-editing one worksheet live, one of them
// offline (edit, reload, reconnect), an observer who cannot edit, and accessibility
// (axe-core: no serious or critical violation on any page). Screenshots of every page go
// to target/web-shots/.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { startHub, launch, signedIn, axe, shot, chromiumBin } from "./harness.mjs";

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

/** Opens the demo network's home. */
async function openNetwork(page) {
  await page.click("text=Algebra I Readiness NIC");
  await page.waitForSelector("h2#ideas-h");
  await page.waitForSelector("table >> text=Daily number talks");
}

/** Opens the first cycle of `site` listed on the network home. */
async function openCycle(page, site) {
  await page.click(`section[aria-labelledby=cycles-h] li:has-text("${site}") a >> nth=0`);
  await page.waitForSelector("h2#plan-h");
}

test("each role signs in and sees the network home, with its role", async () => {
  for (const [who, role] of [
    ["admin", "hub admin"],
    ["lena", "network lead"],
    ["ana", "site member"],
    ["otto", "observer"],
  ]) {
    const { context, page } = await signedIn(browser, hub, who);
    assert.match(await page.textContent("header"), new RegExp(role));
    await openNetwork(page);
    // The overview names each change idea's status at the sites that tested it.
    const row = await page.textContent("tr:has-text('Daily number talks')");
    assert.match(row, /adopted/);
    await shot(page, `home-${who}`);
    assert.deepEqual(await axe(page), [], `axe on the network home as ${who}`);
    await context.close();
  }
});

test("a wrong token is refused with the hub's reason, and the sign-in page is accessible", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(hub.url);
  await shot(page, "signin");
  assert.deepEqual(await axe(page), []);
  await page.fill("#token", "not-a-token");
  await page.click("button[type=submit]");
  const alert = await page.waitForSelector("[role=alert]");
  assert.match(await alert.textContent(), /did not accept this token/);
  await context.close();
});

test("a site member creates a cycle; two people co-edit its study notes live and converge", async () => {
  const ana = await signedIn(browser, hub, "ana");
  await openNetwork(ana.page);
  await ana.page.click("text=Start a PDSA cycle");
  await ana.page.fill("#idea", "number-talks");
  await ana.page.fill("textarea#objective", "Try number talks in 8th-grade advisory");
  assert.deepEqual(await axe(ana.page), [], "axe on the new-cycle form");
  await shot(ana.page, "new-cycle");
  await ana.page.click("text=Create the cycle");
  await ana.page.waitForSelector("h2#plan-h");
  const docUrl = ana.page.url();
  assert.match(docUrl, /#\/d\/\w+/);
  // The hub has it, with Ana's site.
  const docId = docUrl.split("/d/")[1];
  assert.match(hub.nic("docs", "show", docId), /number-talks/);

  const ben = await signedIn(browser, hub, "ben");
  await ben.page.goto(docUrl);
  await ben.page.waitForSelector("h2#plan-h");
  // Each sees the other is there.
  await ana.page.waitForSelector("[data-testid=presence]:has-text('Ben Lincoln')");
  await ben.page.waitForSelector("[data-testid=presence]:has-text('Ana Lincoln')");

  // Both type into the same field at once; both keep their words, and both screens agree.
  await Promise.all([ana.page.type("#learning", "Ana: students explained strategies. "), ben.page.type("#learning", "Ben: quieter students joined in. ")]);
  const agreed = async (page) => page.$eval("#learning", (el) => el.value);
  await ana.page.waitForFunction(() => /Ben: quieter/.test(document.querySelector("#learning").value) && /Ana: students/.test(document.querySelector("#learning").value));
  await ben.page.waitForFunction(() => /Ben: quieter/.test(document.querySelector("#learning").value) && /Ana: students/.test(document.querySelector("#learning").value));
  // Both screens end equal. Sampling one screen and waiting for the other to match it
  // raced: the sampled one could still be receiving the last keystrokes. Compare both,
  // again and again, until they agree.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const [a, b] = await Promise.all([agreed(ana.page), agreed(ben.page)]);
    if (a === b) break;
    assert.ok(Date.now() < deadline, `the screens never agreed: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    await ana.page.waitForTimeout(50);
  }
  // Who changed what names both.
  await ana.page.waitForSelector("section.history >> text=Ben Lincoln");
  // Edits are stamped in milliseconds, as History reads them: this year, not 1970.
  assert.match(await ana.page.textContent("section.history"), new RegExp(String(new Date().getFullYear())));
  assert.doesNotMatch(await ana.page.textContent("section.history"), /1970/);
  await shot(ana.page, "cycle-worksheet");
  assert.deepEqual(await axe(ana.page), [], "axe on the worksheet");
  await ana.context.close();
  await ben.context.close();
});

test("edits made offline persist across a reload and sync on reconnect", async () => {
  const ana = await signedIn(browser, hub, "ana", { remember: true });
  await openNetwork(ana.page);
  await openCycle(ana.page, "lincoln-hs");
  const docUrl = ana.page.url();
  const ben = await signedIn(browser, hub, "ben");
  await ben.page.goto(docUrl);
  await ben.page.waitForSelector("h2#plan-h");
  // The service worker has the app's files once it controls the page.
  await ana.page.reload();
  await ana.page.waitForSelector("h2#plan-h");
  await ana.page.waitForFunction(() => navigator.serviceWorker.controller !== null);

  await ana.context.setOffline(true);
  await ana.page.waitForSelector("[data-testid=connection]:has-text('Offline')");
  await ana.page.type("#adjustments", "Offline note from Ana. ");
  await ana.page.waitForSelector("[data-testid=saved]:has-text('Every edit is saved')");
  await ana.page.reload();
  await ana.page.waitForSelector("h2#plan-h");
  await ana.page.waitForFunction(() => /Offline note from Ana/.test(document.querySelector("#adjustments").value));
  await shot(ana.page, "cycle-offline");
  // Meanwhile Ben edits online.
  await ben.page.type("#rationale", " Ben online.");

  await ana.context.setOffline(false);
  await ana.page.waitForSelector("[data-testid=connection]:has-text('Live')");
  await ben.page.waitForFunction(() => /Offline note from Ana/.test(document.querySelector("#adjustments").value));
  await ana.page.waitForFunction(() => /Ben online\./.test(document.querySelector("#rationale").value));
  await ana.context.close();
  await ben.context.close();
});

test("an observer reads a cycle but cannot edit it", async () => {
  const otto = await signedIn(browser, hub, "otto");
  await openNetwork(otto.page);
  assert.equal(await otto.page.$("text=Start a PDSA cycle"), null, "no start button for an observer");
  await openCycle(otto.page, "lincoln-hs");
  await otto.page.waitForSelector("text=Read only for your role");
  for (const field of ["#objective", "#learning", "#rationale"]) {
    assert.equal(await otto.page.$eval(field, (el) => el.readOnly), true, `${field} is read-only`);
  }
  assert.equal(await otto.page.$eval("#decision", (el) => el.disabled), true);
  assert.equal(await otto.page.$("#new-question"), null);
  await shot(otto.page, "cycle-observer");
  assert.deepEqual(await axe(otto.page), []);
  await otto.context.close();
});

test("the pages fit a phone-sized screen without sideways scrolling", async () => {
  const ana = await signedIn(browser, hub, "ana", { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
  const fits = () => ana.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
  assert.ok(await fits(), "networks page");
  await shot(ana.page, "phone-networks");
  await openNetwork(ana.page);
  assert.ok(await fits(), "network home (its wide table scrolls inside its own region)");
  await shot(ana.page, "phone-home");
  assert.deepEqual(await axe(ana.page), []);
  await openCycle(ana.page, "lincoln-hs");
  assert.ok(await fits(), "worksheet");
  await shot(ana.page, "phone-cycle");
  assert.deepEqual(await axe(ana.page), []);
  await ana.context.close();
});

test("predictions lock once Do has data; an adapt decision starts the next cycle, linked both ways; times in the viewer's zone", async () => {
  const ana = await signedIn(browser, hub, "ana", { timezoneId: "Asia/Tokyo", locale: "en-US" });
  await openNetwork(ana.page);
  await ana.page.click("text=Start a PDSA cycle");
  await ana.page.fill("#idea", "exit-tickets");
  await ana.page.fill("textarea#objective", "Exit tickets in Algebra I");
  await ana.page.click("text=Create the cycle");
  await ana.page.waitForSelector("h2#plan-h");
  const firstUrl = ana.page.url();
  await ana.page.fill("#new-question", "How many of 30 tickets show the misconception?");
  await ana.page.click("text=Add question");
  const prediction = await ana.page.waitForSelector("textarea[id^=p-]");
  await prediction.type("10 of 30");
  assert.equal(await prediction.evaluate((el) => el.readOnly), false, "a prediction is open before Do");
  // Do gets data: an observation. The prediction is now fixed.
  await ana.page.fill("#new-observation", "Collected 28 tickets");
  await ana.page.click("text=Add observation");
  await ana.page.waitForSelector("text=predictions are fixed");
  assert.equal(await ana.page.$eval("textarea[id^=p-]", (el) => el.readOnly), true, "the prediction is fixed once Do has data");
  // The observation's time is shown in the viewer's zone (Tokyo here).
  const shown = await ana.page.textContent("section[aria-labelledby=do-h] li .muted");
  const hourNow = new Intl.DateTimeFormat("en-US", { timeZone: "Asia/Tokyo", hour: "numeric" }).format(new Date());
  assert.ok(shown.includes(hourNow.replace(/\s?[AP]M/, "")), `observation time ${shown} in Tokyo time (hour ${hourNow})`);

  await ana.page.selectOption("#decision", "adapt");
  await ana.page.click("text=Start the next cycle from this adaptation");
  await ana.page.waitForFunction(() => /#\/d\//.test(location.href) && (document.querySelector("[role=alert]") || true));
  const problem = await ana.page.$("section[aria-labelledby=act-h] [role=alert]");
  if (problem) assert.fail(`starting the next cycle failed: ${await problem.textContent()}`);
  await ana.page.waitForFunction((first) => location.href !== first && /#\/d\//.test(location.href), firstUrl);
  await ana.page.waitForSelector("h2#plan-h");
  assert.match(await ana.page.textContent(".worksheet"), /cycle 2/);
  // The question carried over, its prediction empty and open again.
  assert.equal(await ana.page.$eval("textarea[id^=q-]", (el) => el.value), "How many of 30 tickets show the misconception?");
  assert.equal(await ana.page.$eval("textarea[id^=p-]", (el) => el.value), "");
  // Linked both ways, on the hub.
  const nextId = ana.page.url().split("/d/")[1];
  const firstId = firstUrl.split("/d/")[1];
  await ana.page.click("text=previous cycle");
  await ana.page.waitForSelector("text=The next cycle");
  assert.match(hub.nic("docs", "show", nextId, "--json"), new RegExp(firstId));
  assert.match(hub.nic("docs", "show", firstId, "--json"), new RegExp(nextId));
  await ana.context.close();
});
