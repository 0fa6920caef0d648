//! The web app, served by the hub on its own port (same origin as the gRPC-web API and the
//! `/automerge` WebSocket, so the app needs no CORS and its token never leaves the origin).
//! Its built files are embedded in the binary by `build.rs` from `web/dist`; no file is read
//! from disk at run time. Files are public (they hold no data); everything the app shows
//! comes from calls that carry the member's token.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// One embedded file.
pub(crate) struct Asset {
    /// Its name under the root, e.g. `app.js`.
    pub name: &'static str,
    /// Its bytes.
    pub bytes: &'static [u8],
    /// The same, gzip-compressed.
    pub gzip: &'static [u8],
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// A strong ETag of its content.
    pub etag: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// The page's Content-Security-Policy: scripts and styles only from the hub itself (wasm
/// compiled from them), connections only back to it, charts as images, no framing.
const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; worker-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The embedded file called `name`, if there is one.
pub(crate) fn asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// Routes for the app's files: `/` is the page, the rest by name.
pub(crate) fn router() -> axum::Router {
    let mut router = axum::Router::new();
    if asset("index.html").is_some() {
        router = router.route(
            "/",
            get(|h: HeaderMap| async move { serve("index.html", &h) }),
        );
    }
    for a in ASSETS {
        let name = a.name;
        router = router.route(
            &format!("/{name}"),
            get(move |h: HeaderMap| async move { serve(name, &h) }),
        );
    }
    router
}

fn serve(name: &str, request: &HeaderMap) -> Response {
    let Some(a) = asset(name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(a.content_type),
    );
    headers.insert(header::ETAG, HeaderValue::from_static(a.etag));
    // Revalidated on every load (cheap: a 304), so a new hub's app is used at once.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if a.content_type.starts_with("text/html") {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    let matches = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == a.etag || tag.trim() == "*");
    if matches {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    let gzip = request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| e.split(';').next().is_some_and(|e| e.trim() == "gzip"));
    if gzip && a.gzip.len() < a.bytes.len() {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        (headers, a.gzip).into_response()
    } else {
        (headers, a.bytes).into_response()
    }
}
