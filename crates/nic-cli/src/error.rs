//! What can go wrong, each with the exit code a script can act on and a message that names
//! the problem and the fix.

use std::process::ExitCode;

/// Exit codes `nic` uses (also listed in `nic --help`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Something not listed below.
    Failure = 1,
    /// Not signed in, or the config file is unusable.
    Config = 3,
    /// The hub cannot be reached.
    Unreachable = 4,
    /// The hub refused the token.
    Unauthenticated = 5,
    /// Something named does not exist.
    NotFound = 6,
    /// The signed-in member may not do this.
    PermissionDenied = 7,
    /// The input is invalid (a bad argument, bad rows in a file).
    Invalid = 8,
    /// Saved in the local replica, but the hub has not confirmed it yet.
    NotYetSynced = 9,
}

/// A failure of a `nic` command.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CliError {
    /// Which kind, for the exit code.
    pub exit: Exit,
    /// What happened and what to do.
    pub message: String,
}

impl CliError {
    /// A failure of `exit`'s kind.
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Self {
            exit,
            message: message.into(),
        }
    }

    /// Invalid input.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Exit::Invalid, message)
    }

    /// The process exit code.
    pub fn code(&self) -> ExitCode {
        ExitCode::from(self.exit as u8)
    }
}

impl From<nic_client::ClientError> for CliError {
    fn from(e: nic_client::ClientError) -> Self {
        use nic_client::{ClientError as C, Refusal};
        let exit = match &e {
            C::Unreachable { addr, reason }
                if addr.starts_with("https://") && reason.contains("certificate") =>
            {
                return CliError::new(
                    Exit::Unreachable,
                    format!(
                        "{e}\nThe TLS handshake failed over a certificate: if the hub's certificate comes from a private CA, sign in with `nic login --hub {addr} --ca-file CA.pem` (and `--cert FILE --key FILE` if the hub asks for this device's certificate)"
                    ),
                );
            }
            C::Unreachable { .. } => Exit::Unreachable,
            C::BadAddress { addr, reason } => {
                return CliError::new(
                    Exit::Config,
                    format!(
                        "{addr:?} is not a hub address ({reason}); use e.g. http://127.0.0.1:50051, or https://… for a hub with TLS"
                    ),
                );
            }
            C::BadToken => Exit::Config,
            C::BadTls { .. } => Exit::Config,
            C::UnknownDocument(_) => Exit::NotFound,
            C::NotAllowed(_) => Exit::PermissionDenied,
            C::EditRefused { .. } | C::InvalidMeta(_) | C::Schema { .. } => Exit::Invalid,
            C::Refused { refusal, message } => {
                let (exit, hint) = match refusal {
                    Refusal::Unauthenticated => (
                        Exit::Unauthenticated,
                        "; sign in again with `nic login --hub URL --token-file FILE` (ask a lead for a token)",
                    ),
                    Refusal::NotFound => (Exit::NotFound, ""),
                    Refusal::PermissionDenied => (Exit::PermissionDenied, ""),
                    Refusal::Invalid | Refusal::AlreadyExists => (Exit::Invalid, ""),
                    Refusal::Busy => (Exit::Failure, "; the hub is busy: try again shortly"),
                    Refusal::Internal | Refusal::Other => (Exit::Failure, ""),
                };
                return CliError::new(exit, format!("{message}{hint}"));
            }
            C::Timeout(_) => Exit::NotYetSynced,
            C::BadReplica { .. } => Exit::Config,
            _ => Exit::Failure,
        };
        CliError::new(exit, e.to_string())
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::new(Exit::Failure, e.to_string())
    }
}

impl From<nic_model::IdError> for CliError {
    fn from(e: nic_model::IdError) -> Self {
        CliError::invalid(e.to_string())
    }
}
