//! The client side of authentication: every call carries `authorization: Bearer <token>`.

use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Request, Status};

/// A channel whose every call carries a token.
pub type AuthedChannel = InterceptedService<Channel, Bearer>;

/// Adds `authorization: Bearer <token>` to every request.
#[derive(Clone)]
pub struct Bearer(MetadataValue<Ascii>);

impl Bearer {
    /// The interceptor for `token`; an error if the token cannot be sent as metadata
    /// (tokens are ASCII).
    pub fn new(token: &str) -> Result<Self, Status> {
        format!("Bearer {}", token.trim())
            .parse()
            .map(Self)
            .map_err(|_| Status::invalid_argument("a token must be printable ASCII"))
    }

    /// `channel` with this token on every call.
    pub fn on(self, channel: Channel) -> AuthedChannel {
        InterceptedService::new(channel, self)
    }
}

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.write_str("Bearer(…)")
    }
}

impl Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}
