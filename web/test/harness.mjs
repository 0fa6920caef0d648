// A real hub for the browser tests: nic-hub on an OS-chosen port over a temporary folder,
// the demo network made by `nic demo`, and members of every role with their tokens — all
// through the shipped binaries (NIC_HUB_BIN, NIC_BIN; default: the workspace's debug
// build). Chromium is Debian's (CHROMIUM_BIN), driven by playwright-core.

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, "..", "..");
const hubBin = process.env.NIC_HUB_BIN ?? join(root, "target", "debug", "nic-hub");
const nicBin = process.env.NIC_BIN ?? join(root, "target", "debug", "nic");
export const chromiumBin = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
/** Where screenshots of every page land, for people to look at. */
export const shots = join(root, "target", "web-shots");

/** Starts a hub with the demo network and one member per role. */
export async function startHub() {
  const dir = mkdtempSync(join(tmpdir(), "nic-web-"));
  const dataDir = join(dir, "data");
  const home = join(dir, "home");
  mkdirSync(home);
  // NIC_WEB_DIR serves a freshly built app without rebuilding the hub (CI tests the embedded one).
  const web = process.env.NIC_WEB_DIR ? ["--web-dir", process.env.NIC_WEB_DIR] : [];
  const child = spawn(hubBin, ["serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--metrics-listen", "off", ...web], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const address = await new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`hub exited early with ${code}`)));
    lines.on("line", (line) => {
      const m = line.match(/listening on (\S+)/);
      if (m) resolve(m[1]);
    });
  });
  const url = `http://${address}/`;
  const env = { ...process.env, HOME: home, NIC_REPLICA: join(home, "replica") };
  const nic = (...args) => execFileSync(nicBin, args, { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  nic("login", "--hub", `http://${address}`, "--token-file", join(dataDir, "admin-token"));
  nic("demo");
  const tokens = { admin: readFileSync(join(dataDir, "admin-token"), "utf8").trim() };
  for (const [id, role, site, name] of [
    ["lena", "lead", "", "Lena Lead"],
    ["ana", "site-member", "lincoln-hs", "Ana Lincoln"],
    ["ben", "site-member", "lincoln-hs", "Ben Lincoln"],
    ["rosa", "site-member", "roosevelt-hs", "Rosa Roosevelt"],
    ["otto", "observer", "", "Otto Observer"],
  ]) {
    nic("members", "add", id, "--role", role, ...(site ? ["--site", site] : []), "--name", name);
    const file = join(dir, `${id}.token`);
    nic("members", "token", id, "--to-file", file);
    tokens[id] = readFileSync(file, "utf8").trim();
  }
  const stop = async () => {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  return { address, url, tokens, nic, stop };
}

/** Launches Chromium. */
export function launch() {
  return chromium.launch({ executablePath: chromiumBin, args: ["--no-sandbox"] });
}

/** A new browser context signed in as `who`, on the networks page. */
export async function signedIn(browser, hub, who, options = {}) {
  const { remember, ...contextOptions } = options;
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, ...contextOptions });
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error(`[${who}] page error: ${e.message}`));
  await page.goto(hub.url);
  await page.fill("#token", hub.tokens[who]);
  if (remember) await page.check("text=Keep me signed in on this device");
  await page.click("button[type=submit]");
  await page.waitForSelector("h1:has-text('Your networks')");
  return { context, page };
}

/** Runs axe-core on the page; returns its serious and critical violations. */
export async function axe(page) {
  // Evaluated rather than added as a <script>: the page's CSP rightly refuses inline code.
  await page.evaluate(readFileSync(join(here, "..", "node_modules", "axe-core", "axe.min.js"), "utf8"));
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join("; ")}`);
}

/** Saves a screenshot of the whole page as target/web-shots/NAME.png. */
export async function shot(page, name) {
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** Polls `f` until it returns a truthy value or `ms` pass. */
export async function until(f, ms = 15000, what = "condition") {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export { writeFileSync };
