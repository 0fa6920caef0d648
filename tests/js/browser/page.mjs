// A web page that co-edits a hub document with automerge-repo in the browser, as a web app
// would: Automerge's wasm loaded from the server, the browser WebSocket adapter on the URL
// (with its ticket) given in the page's query, and the document found by its automerge URL.
// Bundled with esbuild by browser.test.mjs; `window.edit(prefix)` is the test's hand.

import { Repo, initializeWasm, splice } from "@automerge/automerge-repo/slim";
import { BrowserWebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";

const params = new URLSearchParams(location.search);
const show = (id, text) => {
  document.getElementById(id).textContent = text;
};

try {
  await initializeWasm(new URL("automerge.wasm", location.href));
  const repo = new Repo({ network: [new BrowserWebSocketClientAdapter(params.get("socket"))] });
  const handle = await repo.find(params.get("doc"));
  const render = () => show("objective", handle.doc().plan.objective);
  handle.on("change", render);
  render();
  window.edit = (prefix) =>
    handle.change((d) => splice(d, ["plan", "objective"], 0, 0, prefix), { message: "from the browser" });
  show("status", "ready");
} catch (e) {
  show("status", `failed: ${e.message}`);
}
