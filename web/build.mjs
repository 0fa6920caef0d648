// Builds the web app into dist/ (or the folder given as the first argument): the bundle
// (esbuild, minified, no source maps, so the same source gives the same bytes), the service
// worker, the page, its styles and Automerge's wasm. nic-hub embeds dist/ in its binary;
// CI rebuilds into a scratch folder and checks the two are byte-identical, and checks the
// JavaScript shipped stays within its budget (gzip, Automerge's wasm excluded).

import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

/** The most JavaScript (gzip -9, all bundles together) the app may ship. */
export const JS_BUDGET_BYTES = 160 * 1024;

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] ?? join(here, "dist");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  legalComments: "none",
  charset: "utf8",
  logLevel: "warning",
  jsx: "automatic",
  jsxImportSource: "preact",
  define: { "process.env.NODE_ENV": '"production"' },
};
await build({ ...common, entryPoints: [join(here, "src/main.tsx")], outfile: join(out, "app.js") });
await build({ ...common, entryPoints: [join(here, "src/sw.ts")], outfile: join(out, "sw.js"), format: "iife" });
copyFileSync(join(here, "static/index.html"), join(out, "index.html"));
copyFileSync(join(here, "static/app.css"), join(out, "app.css"));
copyFileSync(join(here, "node_modules/@automerge/automerge/dist/automerge.wasm"), join(out, "automerge.wasm"));

let js = 0;
const sizes = {};
for (const name of readdirSync(out).sort()) {
  const bytes = readFileSync(join(out, name));
  const gz = gzipSync(bytes, { level: 9 }).length;
  sizes[name] = { bytes: bytes.length, gzip: gz };
  if (name.endsWith(".js")) js += gz;
}
writeFileSync(join(here, "sizes.json"), JSON.stringify({ budget_gzip_js: JS_BUDGET_BYTES, gzip_js: js, files: sizes }, null, 2) + "\n");
console.log(`built ${out}: JavaScript ${js} bytes gzip (budget ${JS_BUDGET_BYTES})`);
if (js > JS_BUDGET_BYTES) {
  console.error(`FAILED: the app ships ${js} bytes of gzip JavaScript, over its budget of ${JS_BUDGET_BYTES}`);
  process.exit(1);
}
