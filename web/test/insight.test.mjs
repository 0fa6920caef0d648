// Comparing cycles across sites, the district view and coaching feedback, in headless
// Chromium against a real hub with the demo network: what the pages show is checked
// against what `nic` prints for the same hub, feedback written in the browser is seen by
// `nic feedback inbox|show` and the CLI's by the browser, observers cannot write, and
// axe-core finds nothing serious on any page. Screenshots go to target/web-shots/.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { startHub, launch, signedIn, axe, shot, until, chromiumBin } from "./harness.mjs";

let hub;
let browser;
let docs;

before(async () => {
  assert.ok(existsSync(chromiumBin), `no Chromium at ${chromiumBin}: apt-get install chromium, or set CHROMIUM_BIN`);
  hub = await startHub();
  browser = await launch();
  docs = JSON.parse(hub.nic("--json", "docs", "list"));
});

after(async () => {
  await browser?.close();
  await hub?.stop();
});

const NETWORK = "algebra-readiness";
const docId = (kind, site, title) => {
  const d = docs.find((x) => x.kind === kind && (x.site ?? "") === site && (!title || x.title === title));
  assert.ok(d, `demo has a ${kind} at ${site || "network level"} ${title ?? ""}`);
  return d.id;
};

test("the compare page shows each site's number-talks ramp with its decisions, as `nic compare` does", async () => {
  const expected = JSON.parse(hub.nic("--json", "compare", "number-talks"));
  const { context, page } = await signedIn(browser, hub, "lena", { viewport: { width: 1500, height: 900 } });
  await page.goto(`${hub.url}#/n/${NETWORK}/compare/number-talks`);
  await page.waitForSelector("section.ramp");
  await page.waitForSelector("h1:has-text('Daily number talks')");
  const shown = await page.$$eval("section.ramp", (ramps) =>
    ramps.map((r) => ({
      site: r.dataset.site,
      status: r.querySelector("[data-testid=status]").textContent.trim(),
      days: r.querySelector("[data-testid=days]").textContent.trim(),
      cycles: [...r.querySelectorAll("li.cycle-card")].map((c) => ({
        n: c.dataset.cycle,
        text: c.textContent,
        link: c.querySelector("h3 a").getAttribute("href"),
        decision: c.querySelector("[data-testid=decision] .decision").textContent.trim(),
      })),
    })),
  );
  const sites = [...new Set(expected.map((r) => r.site))];
  assert.deepEqual(shown.map((s) => s.site), sites, "one ramp per site, in the CLI's order");
  for (const s of shown) {
    const rows = expected.filter((r) => r.site === s.site);
    assert.equal(s.status, rows[0].site_status, `${s.site}'s status`);
    if (rows[0].days_to_adopt) assert.match(s.days, new RegExp(`^${rows[0].days_to_adopt} days`), `${s.site}'s days to adoption`);
    else assert.match(s.days, /not adopted/);
    assert.deepEqual(s.cycles.map((c) => c.n), rows.map((r) => r.cycle), `${s.site}'s cycles in order`);
    for (const [i, c] of s.cycles.entries()) {
      const r = rows[i];
      assert.equal(c.decision.split(" ")[0], r.decision === "(open)" ? "open" : r.decision, `${s.site} cycle ${c.n}'s decision`);
      assert.ok(c.text.includes(r.start), `${s.site} cycle ${c.n} shows its start ${r.start}`);
      assert.ok(c.text.includes(r.predicted), `${s.site} cycle ${c.n} shows its prediction ${r.predicted}`);
      if (r.found) assert.ok(c.text.includes(r.found), `${s.site} cycle ${c.n} shows its result ${r.found}`);
      assert.match(c.link, /^#\/d\/\w+$/, "each cycle links to its worksheet");
    }
  }
  // The network-wide decisions, as the CLI's summary line counts them.
  const summary = hub.nic("compare", "number-talks").trim().split("\n").pop();
  const [, counts] = summary.match(/number-talks: (\d+ adopt, \d+ adapt, \d+ abandon, \d+ open)/);
  assert.match(await page.textContent("[data-testid=network-decisions]"), new RegExp(counts));
  // Side by side on a wide screen: the first two ramps share a row.
  const tops = await page.$$eval("section.ramp", (rs) => rs.map((r) => r.getBoundingClientRect().top));
  assert.equal(tops[0], tops[1], "ramps side by side at 1500 px");
  await shot(page, "compare-wide");
  assert.deepEqual(await axe(page), [], "axe on the compare page");
  // A cycle's link opens its worksheet.
  await page.click("section.ramp[data-site=lincoln-hs] li.cycle-card[data-cycle='3'] h3 a");
  await page.waitForSelector("h2#plan-h");
  await context.close();

  // Stacked on a phone.
  const phone = await signedIn(browser, hub, "ana", { viewport: { width: 375, height: 800 } });
  await phone.page.goto(`${hub.url}#/n/${NETWORK}/compare/number-talks`);
  await phone.page.waitForSelector("section.ramp");
  const boxes = await phone.page.$$eval("section.ramp", (rs) => rs.map((r) => r.getBoundingClientRect()));
  assert.ok(boxes[1].top >= boxes[0].bottom, "ramps stacked at 375 px");
  assert.ok(await phone.page.evaluate(() => document.documentElement.scrollWidth <= 375), "no sideways scrolling at 375 px");
  await shot(phone.page, "compare-375");
  assert.deepEqual(await axe(phone.page), [], "axe on the compare page at 375 px");
  await phone.context.close();
});

test("the district page lists the demo network and its equity codes with their labels", async () => {
  // The demo defines no codes: a lead defines two and tags documents, as a network would.
  hub.nic("equity", "define", "changes-the-system", "--dimension", "solution", "--label", "Changes the system, not the student");
  hub.nic("equity", "define", "el-access", "--dimension", "groups", "--label", "English learners' access to grade-level math");
  hub.nic("equity", "tag", docId("aim", ""), "changes-the-system", "el-access");
  hub.nic("equity", "tag", docId("change_idea", "", "Math sentence frames for English learners"), "changes-the-system");
  const exported = JSON.parse(hub.nic("export", "district", "--format", "json"));
  assert.ok(exported.equity_codes.length >= 2, "the hub counts the codes");

  const { context, page } = await signedIn(browser, hub, "lena");
  await page.goto(`${hub.url}#/district`);
  await page.waitForSelector(`section[data-network=${NETWORK}]`);
  const link = await page.$(`section[data-network=${NETWORK}] h2 a`);
  assert.equal(await link.textContent(), "Algebra I Readiness NIC");
  assert.equal(await link.getAttribute("href"), `#/n/${NETWORK}`);
  const ideas = await page.textContent(`section[data-network=${NETWORK}] table`);
  assert.match(ideas, /Daily number talks/);
  assert.match(ideas, /adopted/);
  assert.match(await page.textContent(`section[data-network=${NETWORK}]`), /On track for Algebra I/);
  // Each code with its count (as the hub's export says), label and dimension (from the profile).
  for (const c of exported.equity_codes) {
    const row = `tr[data-code="${c.code}"]`;
    await page.waitForSelector(`${row} td:has-text("${c.code === "el-access" ? "English learners" : "Changes the system"}")`);
    const cells = await page.$$eval(`${row} th, ${row} td`, (cs) => cs.map((x) => x.textContent.trim()));
    assert.equal(cells[3], String(c.count), `${c.code}'s count`);
  }
  const sys = await page.$$eval('tr[data-code="changes-the-system"] td', (cs) => cs.map((x) => x.textContent.trim()));
  assert.deepEqual(sys, ["Changes the system, not the student", "nature of the solution", "2"]);
  await shot(page, "district");
  assert.deepEqual(await axe(page), [], "axe on the district page");
  await page.click(`section[data-network=${NETWORK}] h2 a`);
  await page.waitForSelector("h2#ideas-h");
  await context.close();

  // On a phone the page does not scroll sideways (wide tables scroll in their own region).
  const phone = await signedIn(browser, hub, "otto", { viewport: { width: 375, height: 800 } });
  await phone.page.goto(`${hub.url}#/district`);
  await phone.page.waitForSelector('tr[data-code="el-access"] td:has-text("English learners")');
  assert.ok(await phone.page.evaluate(() => document.documentElement.scrollWidth <= 375), "no sideways scrolling at 375 px");
  await shot(phone.page, "district-375-observer");
  assert.deepEqual(await axe(phone.page), [], "axe on the district page at 375 px");
  await phone.context.close();
});

test("feedback: a site member asks in the browser, the coach answers in the browser, `nic feedback` sees both ways", async () => {
  const cycle = docId("pdsa_cycle", "lincoln-hs", "number-talks — cycle 1");
  const ask = "Were our predictions for cycle 1 too optimistic?";
  const ana = await signedIn(browser, hub, "ana");
  await ana.page.goto(`${hub.url}#/d/${cycle}`);
  await ana.page.waitForSelector("section.feedback >> text=No feedback threads on this document yet.");
  await ana.page.fill("#feedback-text", ask);
  await ana.page.selectOption("#feedback-anchor", "study");
  await ana.page.click("text=Request feedback");
  await ana.page.waitForSelector("section.feedback [role=status]:has-text('Feedback requested')");
  await ana.page.waitForSelector(`section.feedback article.thread:has-text("${ask}")`);
  await shot(ana.page, "feedback-requested");
  assert.deepEqual(await axe(ana.page), [], "axe on a document page with its feedback panel");

  // The CLI (the hub admin, a coach) sees it in its inbox, from lincoln-hs, about the cycle.
  const inbox = await until(() => {
    const text = hub.nic("feedback", "inbox");
    return text.includes(ask) ? text : null;
  }, 20000, "the request in `nic feedback inbox`");
  const line = inbox.split("\n").find((l) => l.includes(ask));
  assert.match(line, /lincoln-hs/);
  assert.ok(line.includes(cycle), "the inbox names the document");
  assert.match(line, /study/);
  assert.match(line, /ana/);
  assert.match(line, /coach\s*$/, "waiting on the coach");
  const thread = line.split(/\s+/)[0];

  // The lead's queue in the browser.
  const lena = await signedIn(browser, hub, "lena");
  await lena.page.goto(`${hub.url}#/n/${NETWORK}/coaching`);
  const row = await lena.page.waitForSelector(`[data-testid=queue] tr[data-thread="${thread}"]`);
  const rowText = await row.textContent();
  assert.match(rowText, /lincoln-hs/);
  assert.match(rowText, /Ana Lincoln/);
  assert.match(rowText, /number-talks — cycle 1/);
  assert.ok(rowText.includes(ask));
  await shot(lena.page, "coaching-lead");
  assert.deepEqual(await axe(lena.page), [], "axe on the coach's queue");

  // Lena opens the cycle from the queue and replies.
  await lena.page.click(`[data-testid=queue] tr[data-thread="${thread}"] a`);
  await lena.page.waitForSelector(`article[data-thread="${thread}"]`);
  const reply = "Compare with adams-ms: their first prediction missed by a similar margin.";
  await lena.page.fill(`#reply-${thread}`, reply);
  await lena.page.click(`article[data-thread="${thread}"] button:has-text("Reply")`);
  await lena.page.waitForSelector(`article[data-thread="${thread}"]:has-text("waiting on the team")`);

  // The CLI replies too; the browser shows it.
  hub.nic("feedback", "reply", thread, "Also worth a look at the Do notes.");
  await lena.page.waitForSelector(`article[data-thread="${thread}"] >> text=Also worth a look at the Do notes.`);
  // And `nic feedback show` has Lena's reply, by her member id with the coach role.
  await until(() => /lena \(coach\): Compare with adams-ms/.test(hub.nic("feedback", "show", thread)), 20000, "Lena's reply in `nic feedback show`");

  await lena.page.click(`article[data-thread="${thread}"] button:has-text("Mark resolved")`);
  await lena.page.waitForSelector(`article[data-thread="${thread}"] >> text=Resolved`);
  await until(() => /\(resolved\)/.test(hub.nic("feedback", "show", thread)), 20000, "resolved in `nic feedback show`");
  await until(() => !hub.nic("feedback", "inbox").includes(thread), 20000, "the thread leaves the inbox");
  await shot(lena.page, "feedback-resolved");

  // Ana sees the reply and the resolution on her page, and her site's threads on the coaching page.
  await ana.page.waitForSelector(`article[data-thread="${thread}"] >> text=${reply}`);
  await ana.page.waitForSelector(`article[data-thread="${thread}"] >> text=Resolved`);
  assert.match(await ana.page.textContent(`article[data-thread="${thread}"]`), /Lena Lead \(coach\)/);
  await ana.page.goto(`${hub.url}#/n/${NETWORK}/coaching`);
  await ana.page.waitForSelector(`h2:has-text("Feedback threads at lincoln-hs")`);
  await ana.page.waitForSelector(`article[data-thread="${thread}"] >> text=${reply}`);
  assert.equal(await ana.page.$("[data-testid=queue]"), null, "a site member has no coach's queue");
  await shot(ana.page, "coaching-site");
  assert.deepEqual(await axe(ana.page), [], "axe on a site member's coaching page");
  await ana.context.close();
  await lena.context.close();

  // Another site's member may not ask here (the thread would go to lincoln-hs's log).
  const rosa = await signedIn(browser, hub, "rosa");
  await rosa.page.goto(`${hub.url}#/d/${cycle}`);
  await rosa.page.waitForSelector("section.feedback >> text=only that site's team and the coaches write");
  assert.equal(await rosa.page.$("#feedback-text"), null);
  await rosa.context.close();
});

test("an observer cannot request feedback or reply", async () => {
  // A thread the observer may read: on a network-level document, in the network's log.
  const aim = docId("aim", "");
  const out = hub.nic("--print-id", "feedback", "request", aim, "Is the aim's target realistic?").trim();
  const otto = await signedIn(browser, hub, "otto");
  await otto.page.goto(`${hub.url}#/d/${aim}`);
  await otto.page.waitForSelector(`article[data-thread="${out}"] >> text=Is the aim's target realistic?`);
  await otto.page.waitForSelector("section.feedback >> text=Observers read feedback threads but do not write in them.");
  assert.equal(await otto.page.$("#feedback-text"), null, "no request form");
  assert.equal(await otto.page.$(`#reply-${out}`), null, "no reply form");
  assert.equal(await otto.page.$("section.feedback button"), null, "no buttons");
  await shot(otto.page, "feedback-observer");
  assert.deepEqual(await axe(otto.page), [], "axe on the observer's document page");
  await otto.page.goto(`${hub.url}#/n/${NETWORK}/coaching`);
  await otto.page.waitForSelector(`article[data-thread="${out}"]`);
  await otto.page.waitForSelector("text=Read only for your role.");
  assert.equal(await otto.page.$("textarea"), null);
  assert.equal(await otto.page.$("[data-testid=queue]"), null);
  await shot(otto.page, "coaching-observer");
  assert.deepEqual(await axe(otto.page), [], "axe on the observer's coaching page");
  await otto.context.close();
});
