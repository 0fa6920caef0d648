//! Certificates made in the test: a CA, certificates it signs, and the hub's TLS files, so
//! TLS tests need no files from outside and no system tools.

#![allow(clippy::unwrap_used)] // test support: a failure here is a broken test machine

use std::path::Path;

use nic_hub::config::TlsFiles;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

/// A CA: its certificate (PEM) and what signs with it.
pub struct Ca {
    /// Its certificate, PEM.
    pub pem: String,
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    /// A new self-signed CA called `name`.
    pub fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap();
        Ca {
            pem: cert.pem(),
            cert,
            key,
        }
    }

    /// A certificate for `names` signed by this CA: (certificate PEM, key PEM).
    pub fn leaf(&self, names: &[&str]) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
                .unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// Writes the hub's certificate (for `localhost`, signed by `server_ca`) into `dir`, and the
/// clients' CA when client certificates are required.
pub fn hub_files(dir: &Path, server_ca: &Ca, client_ca: Option<&Ca>) -> TlsFiles {
    let (cert, key) = server_ca.leaf(&["localhost"]);
    std::fs::write(dir.join("hub.pem"), cert).unwrap();
    std::fs::write(dir.join("hub.key"), key).unwrap();
    let client_ca = client_ca.map(|ca| {
        let path = dir.join("clients-ca.pem");
        std::fs::write(&path, &ca.pem).unwrap();
        path
    });
    TlsFiles {
        cert: dir.join("hub.pem"),
        key: dir.join("hub.key"),
        client_ca,
    }
}
