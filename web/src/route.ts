// The app's pages live in the URL's fragment (`#/n/algebra/…`), so the hub serves one page
// for every route and the app opens offline from the service worker's cache.

import { useEffect, useState } from "preact/hooks";

/** A parsed route: the page and its parameters. */
export type Route =
  | { page: "networks" }
  | { page: "network"; networkId: string }
  | { page: "doc"; docId: string }
  | { page: "new-cycle"; networkId: string }
  | { page: "measures"; networkId: string }
  | { page: "measure"; measureId: string }
  | { page: "data-entry"; networkId: string }
  | { page: "compare"; networkId: string; idea: string }
  | { page: "district" }
  | { page: "coaching"; networkId: string }
  | { page: "new-doc"; networkId: string; kind: string }
  | { page: "public"; networkId: string }
  | { page: "not-found"; path: string };

/** Reads a fragment such as `#/n/algebra`. */
export function parse(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { page: "networks" };
  if (parts[0] === "n" && parts.length === 2) return { page: "network", networkId: parts[1] };
  if (parts[0] === "n" && parts.length === 3 && parts[2] === "new-cycle") return { page: "new-cycle", networkId: parts[1] };
  if (parts[0] === "d" && parts.length === 2) return { page: "doc", docId: parts[1] };
  if (parts[0] === "n" && parts.length === 3 && parts[2] === "measures") return { page: "measures", networkId: parts[1] };
  if (parts[0] === "n" && parts.length === 3 && parts[2] === "data") return { page: "data-entry", networkId: parts[1] };
  if (parts[0] === "n" && parts.length === 4 && parts[2] === "compare") return { page: "compare", networkId: parts[1], idea: parts[3] };
  if (parts[0] === "n" && parts.length === 3 && parts[2] === "coaching") return { page: "coaching", networkId: parts[1] };
  if (parts[0] === "n" && parts.length === 4 && parts[2] === "new") return { page: "new-doc", networkId: parts[1], kind: parts[3] };
  if (parts[0] === "m" && parts.length === 2) return { page: "measure", measureId: parts[1] };
  if (parts[0] === "district" && parts.length === 1) return { page: "district" };
  if (parts[0] === "public" && parts.length === 2) return { page: "public", networkId: parts[1] };
  return { page: "not-found", path: hash };
}

/** The fragment of a route. */
export function href(route: Route): string {
  switch (route.page) {
    case "networks":
      return "#/";
    case "network":
      return `#/n/${encodeURIComponent(route.networkId)}`;
    case "new-cycle":
      return `#/n/${encodeURIComponent(route.networkId)}/new-cycle`;
    case "doc":
      return `#/d/${encodeURIComponent(route.docId)}`;
    case "measures":
      return `#/n/${encodeURIComponent(route.networkId)}/measures`;
    case "data-entry":
      return `#/n/${encodeURIComponent(route.networkId)}/data`;
    case "compare":
      return `#/n/${encodeURIComponent(route.networkId)}/compare/${encodeURIComponent(route.idea)}`;
    case "coaching":
      return `#/n/${encodeURIComponent(route.networkId)}/coaching`;
    case "new-doc":
      return `#/n/${encodeURIComponent(route.networkId)}/new/${encodeURIComponent(route.kind)}`;
    case "measure":
      return `#/m/${encodeURIComponent(route.measureId)}`;
    case "district":
      return "#/district";
    case "public":
      return `#/public/${encodeURIComponent(route.networkId)}`;
    default:
      return "#/";
  }
}

/** The current route, following the fragment. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const on = () => setRoute(parse(location.hash));
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}
