//! The hub's address, TLS settings and token made into one lazily connecting channel that
//! the sync stream and every typed call share.

use std::time::Duration;

use nic_proto::auth::{AuthedChannel, Bearer};
use tonic::transport::{Channel, Endpoint};

use crate::{ClientError, Tls};

/// How long a connection attempt may take before it counts as failed.
pub(crate) const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// The hub's address and the caller's credentials; the channel connects lazily and
/// reconnects by itself underneath.
#[derive(Clone)]
pub(crate) struct Link {
    pub(crate) addr: String,
    pub(crate) channel: Channel,
    pub(crate) bearer: Bearer,
}

impl Link {
    /// Checks the address, TLS settings and token; connects nothing yet. An `https://`
    /// address without settings trusts the system's certificate authorities; TLS settings
    /// with an `http://` address are refused rather than silently unused.
    pub(crate) fn new(addr: &str, token: &str, tls: Option<&Tls>) -> Result<Link, ClientError> {
        let bearer = Bearer::new(token).map_err(|_| ClientError::BadToken)?;
        let bad_address = |reason: String| ClientError::BadAddress {
            addr: addr.to_owned(),
            reason,
        };
        let mut endpoint =
            Endpoint::from_shared(addr.to_owned()).map_err(|e| bad_address(e.to_string()))?;
        let https = endpoint.uri().scheme_str() == Some("https");
        let tls = match (https, tls) {
            (true, tls) => Some(tls.cloned().unwrap_or_default()),
            (false, None) => None,
            (false, Some(_)) => {
                return Err(bad_address(
                    "TLS settings were given for a plain http:// address; write https://".into(),
                ));
            }
        };
        if let Some(tls) = tls {
            endpoint = endpoint
                .tls_config(tls.client_config())
                .map_err(|e| bad_address(format!("TLS settings: {e}")))?;
        }
        let channel = endpoint
            .connect_timeout(ATTEMPT_TIMEOUT)
            .tcp_nodelay(true)
            .connect_lazy();
        Ok(Link {
            addr: addr.to_owned(),
            channel,
            bearer,
        })
    }

    /// The channel with the token on every call.
    pub(crate) fn authed(&self) -> AuthedChannel {
        self.bearer.clone().on(self.channel.clone())
    }

    /// A failed call as the library reports it: a transport failure reads as "cannot
    /// reach", anything else is the hub's answer.
    pub(crate) fn failed(&self, status: tonic::Status) -> ClientError {
        ClientError::from_status(&self.addr, status)
    }
}
