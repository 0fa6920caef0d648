//! The web app served by the hub on its own port: the page with its security headers, each
//! built file byte for byte as committed in `web/dist` (gzip when asked), revalidation by
//! ETag, and no file outside the app (the API paths stay the API's).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::Path;

use nic_e2e::TestHub;

/// One HTTP/1.1 GET: (status line and headers, lowercased; body).
async fn get(hub: &TestHub, path: &str, extra: &str) -> (String, Vec<u8>) {
    hub.http_get(path, extra).await
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .map(str::trim)
}

fn dist(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../web/dist")
            .join(name),
    )
    .unwrap()
}

#[tokio::test]
async fn the_page_and_its_files_are_served_as_built_with_their_headers() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;

    let (head, body) = get(&hub, "/", "").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(body, dist("index.html"));
    assert_eq!(
        header(&head, "content-type"),
        Some("text/html; charset=utf-8")
    );
    let csp = header(&head, "content-security-policy").expect("a CSP on the page");
    for rule in [
        "script-src 'self' 'wasm-unsafe-eval'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(rule), "{csp} lacks {rule}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(header(&head, "x-content-type-options"), Some("nosniff"));
    // The socket's ticket travels in a URL: never in a Referer.
    assert_eq!(header(&head, "referrer-policy"), Some("no-referrer"));

    for (name, kind) in [
        ("app.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
        ("sw.js", "text/javascript; charset=utf-8"),
        ("automerge.wasm", "application/wasm"),
    ] {
        let (head, body) = get(&hub, &format!("/{name}"), "").await;
        assert!(head.starts_with("http/1.1 200"), "{name}: {head}");
        assert_eq!(header(&head, "content-type"), Some(kind), "{name}");
        assert_eq!(body, dist(name), "{name} is served as built");
        let etag = header(&head, "etag").expect("an etag").to_owned();
        let (again, body) = get(
            &hub,
            &format!("/{name}"),
            &format!("if-none-match: {etag}\r\n"),
        )
        .await;
        assert!(
            again.starts_with("http/1.1 304"),
            "{name} revalidates: {again}"
        );
        assert!(body.is_empty());
    }

    // Compressed when the browser accepts it, and the same bytes once inflated.
    let (head, body) = get(&hub, "/automerge.wasm", "accept-encoding: gzip, br\r\n").await;
    assert_eq!(header(&head, "content-encoding"), Some("gzip"), "{head}");
    let mut inflated = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut inflated)
        .unwrap();
    assert_eq!(inflated, dist("automerge.wasm"));
    hub.stop().await;
}

#[tokio::test]
async fn nothing_but_the_apps_own_files_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    for path in [
        "/admin-token",
        "/../Cargo.toml",
        "/dist/app.js",
        "/%2e%2e/Cargo.toml",
        "/data",
    ] {
        let (head, _) = get(&hub, path, "").await;
        assert!(
            !head.starts_with("http/1.1 200"),
            "{path} must not be served: {head}"
        );
    }
    hub.stop().await;
}
