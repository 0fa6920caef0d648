//! The web app, served by the hub on its own port (same origin as the gRPC-web API and the
//! `/automerge` WebSocket, so the app needs no CORS and its token never leaves the origin).
//! Its built files are embedded in the binary by `build.rs` from `web/dist`; no file is read
//! from disk at run time. Files are public (they hold no data); everything the app shows
//! comes from calls that carry the member's token.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// Routes for the app's files: `/` is the page, the rest by name. With `dir`, the same
/// names are read from that folder on every request instead (for working on the app).
pub(crate) fn router(dir: Option<PathBuf>) -> axum::Router {
    let mut router = axum::Router::new();
    let dir = dir.map(Arc::new);
    let names = std::iter::once(("/".to_owned(), "index.html"))
        .chain(ASSETS.iter().map(|a| (format!("/{}", a.name), a.name)));
    for (path, name) in names {
        let dir = dir.clone();
        router = router.route(
            &path,
            get(move |h: HeaderMap| async move {
                match dir {
                    Some(dir) => serve_from(&dir, name, &h).await,
                    None => asset(name).map_or_else(
                        || StatusCode::NOT_FOUND.into_response(),
                        |a| {
                            let file = File {
                                bytes: Body::from(a.bytes),
                                gzip: (a.gzip.len() < a.bytes.len()).then(|| Body::from(a.gzip)),
                                content_type: a.content_type,
                                etag: HeaderValue::from_static(a.etag),
                            };
                            serve(file, &h)
                        },
                    ),
                }
            }),
        );
    }
    router
}

/// A file ready to send.
struct File {
    bytes: Body,
    gzip: Option<Body>,
    content_type: &'static str,
    etag: HeaderValue,
}

/// Serves `name` from a folder, as the embedded file would be (ETag of its content).
async fn serve_from(dir: &Path, name: &'static str, request: &HeaderMap) -> Response {
    let Ok(bytes) = tokio::fs::read(dir.join(name)).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&bytes)[..12]));
    let Ok(etag) = HeaderValue::from_str(&etag) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let file = File {
        bytes: Body::from(bytes),
        gzip: None,
        content_type: asset(name).map_or("application/octet-stream", |a| a.content_type),
        etag,
    };
    serve(file, request)
}

fn serve(file: File, request: &HeaderMap) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(file.content_type),
    );
    headers.insert(header::ETAG, file.etag.clone());
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
    if file.content_type.starts_with("text/html") {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    let etag = file.etag.to_str().unwrap_or_default();
    let matches = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == etag || tag.trim() == "*");
    if matches {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    let accepts_gzip = request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| e.split(';').next().is_some_and(|e| e.trim() == "gzip"));
    match file.gzip {
        Some(gzip) if accepts_gzip => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            (headers, gzip).into_response()
        }
        _ => (headers, file.bytes).into_response(),
    }
}
