// The service worker: keeps the app's own files so it opens without the hub (documents come
// from IndexedDB then). Network first, so a newer hub's app is used as soon as it is
// reachable; the cache only answers when the network does not. API calls and the WebSocket
// are never cached.

const sw = self as unknown as ServiceWorkerGlobalScope;

const CACHE = "nic-hub-app";
const SHELL = ["./", "app.js", "app.css", "automerge.wasm"];

sw.addEventListener("install", (event: ExtendableEvent) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll(SHELL))
      .then(() => sw.skipWaiting()),
  );
});

sw.addEventListener("activate", (event: ExtendableEvent) => {
  event.waitUntil(sw.clients.claim());
});

sw.addEventListener("fetch", (event: FetchEvent) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== sw.location.origin) return;
  const scope = new URL(sw.registration.scope);
  const rel = url.pathname.slice(scope.pathname.length);
  const shell = rel === "" || rel === "index.html" || SHELL.includes(rel);
  if (!shell) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          void caches.open(CACHE).then((c) => c.put(rel === "index.html" ? "./" : event.request, copy));
        }
        return response;
      })
      .catch(async () => (await caches.match(rel === "" || rel === "index.html" ? "./" : event.request)) ?? Response.error()),
  );
});
