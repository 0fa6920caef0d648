// Runs bench.mjs (which imports the generated TypeScript API types): bundled by esbuild
// next to the test harness, whose paths it shares, then run with the same arguments.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "test", ".bench-bundle.mjs");
await build({ entryPoints: [join(here, "bench.mjs")], bundle: true, platform: "node", format: "esm", packages: "external", outfile: out, logLevel: "warning" });
const run = spawnSync(process.execPath, [out, ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(run.status ?? 1);
