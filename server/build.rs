//! Embeds the web app's built files (`web/dist`, built from `web/src` by `npm run build`
//! and committed, so building the hub needs no Node) as a static table with each file's
//! content type and an ETag of its SHA-256.

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        _ => "application/octet-stream",
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let dist = manifest
        .join("..")
        .join("web")
        .join("dist")
        .canonicalize()?;
    println!("cargo::rerun-if-changed={}", dist.display());
    let mut names: Vec<String> = std::fs::read_dir(&dist)?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let mut code = String::from(
        "/// The web app's files, by name.\npub(crate) static ASSETS: &[Asset] = &[\n",
    );
    for name in &names {
        let path = dist.join(name);
        println!("cargo::rerun-if-changed={}", path.display());
        let bytes = std::fs::read(&path)?;
        let etag = hex::encode(&Sha256::digest(&bytes)[..12]);
        // Compressed once here rather than on every request.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&bytes)?;
        let gz_path = out_dir.join(format!("{name}.gz"));
        std::fs::write(&gz_path, gz.finish()?)?;
        writeln!(
            code,
            "    Asset {{ name: {name:?}, bytes: include_bytes!({path:?}), gzip: include_bytes!({gz:?}), content_type: {ct:?}, etag: \"\\\"{etag}\\\"\" }},",
            path = path.display().to_string(),
            gz = gz_path.display().to_string(),
            ct = content_type(name),
        )?;
    }
    code.push_str("];\n");
    let out = out_dir.join("web_assets.rs");
    std::fs::write(out, code)?;
    Ok(())
}
