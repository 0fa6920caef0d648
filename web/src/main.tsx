// Entry point: registers the service worker (the app opens offline) and renders the app.

import { render } from "preact";
import { App } from "./app";
import { lang } from "./i18n";

document.documentElement.lang = lang;
if ("serviceWorker" in navigator) {
  void navigator.serviceWorker.register("sw.js").catch(() => {});
}
const root = document.getElementById("app") as HTMLElement;
root.textContent = "";
render(<App />, root);
