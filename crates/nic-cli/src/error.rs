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

impl From<tonic::Status> for CliError {
    fn from(s: tonic::Status) -> Self {
        use tonic::Code;
        let exit = match s.code() {
            Code::Unauthenticated => Exit::Unauthenticated,
            Code::NotFound => Exit::NotFound,
            Code::PermissionDenied => Exit::PermissionDenied,
            Code::InvalidArgument | Code::AlreadyExists | Code::FailedPrecondition => Exit::Invalid,
            Code::Unavailable => Exit::Unreachable,
            _ => Exit::Failure,
        };
        let hint = match exit {
            Exit::Unauthenticated => {
                "; sign in again with `nic login --hub URL --token-file FILE` (ask a lead for a token)"
            }
            Exit::Unreachable => "; is the hub running, and is the address in `nic whoami` right?",
            _ => "",
        };
        CliError::new(exit, format!("{}{hint}", s.message()))
    }
}

impl From<nic_client::ClientError> for CliError {
    fn from(e: nic_client::ClientError) -> Self {
        use nic_client::ClientError as C;
        let exit = match &e {
            C::Unreachable { .. } => Exit::Unreachable,
            C::BadAddress { .. } => Exit::Config,
            C::UnknownDocument(_) => Exit::NotFound,
            C::NotAllowed(_) => Exit::PermissionDenied,
            C::EditRefused { .. } | C::InvalidMeta(_) | C::Schema { .. } => Exit::Invalid,
            C::Refused(s) => return CliError::from((**s).clone()),
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
