//! The library's errors as Python exceptions, with the Rust library's words. One place maps
//! them; each class says what a program can do about it.

use nic_client::ClientError;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    nic_client,
    NicError,
    PyException,
    "Anything the replica or the hub refused or could not do."
);
create_exception!(
    nic_client,
    InvalidArgument,
    NicError,
    "An address, token, id, kind or TLS file that cannot be used."
);
create_exception!(
    nic_client,
    Unreachable,
    NicError,
    "The hub could not be reached; the replica keeps working offline."
);
create_exception!(
    nic_client,
    HubRefused,
    NicError,
    "The hub refused: not signed in, not allowed, or the hub's own rules."
);
create_exception!(
    nic_client,
    EditRefused,
    NicError,
    "A change that does not fit the document's kind or breaks its rules; nothing was written."
);
create_exception!(
    nic_client,
    UnknownDocument,
    NicError,
    "The document is not in this replica: subscribe to its network first."
);
create_exception!(
    nic_client,
    Timeout,
    NicError,
    "A wait ran out of time; what it waited for may still happen."
);

/// Adds the exception classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("NicError", py.get_type::<NicError>())?;
    m.add("InvalidArgument", py.get_type::<InvalidArgument>())?;
    m.add("Unreachable", py.get_type::<Unreachable>())?;
    m.add("HubRefused", py.get_type::<HubRefused>())?;
    m.add("EditRefused", py.get_type::<EditRefused>())?;
    m.add("UnknownDocument", py.get_type::<UnknownDocument>())?;
    m.add("Timeout", py.get_type::<Timeout>())?;
    Ok(())
}

/// The exception for a library error, with its message as the library words it.
pub(crate) fn to_py(e: ClientError) -> PyErr {
    let message = e.to_string();
    match e {
        ClientError::BadAddress { .. }
        | ClientError::BadToken
        | ClientError::BadTls { .. }
        | ClientError::InvalidMeta(_) => InvalidArgument::new_err(message),
        ClientError::Unreachable { .. } => Unreachable::new_err(message),
        ClientError::Refused { .. } | ClientError::NotAllowed(_) => HubRefused::new_err(message),
        ClientError::EditRefused { .. } | ClientError::Schema { .. } => {
            EditRefused::new_err(message)
        }
        ClientError::UnknownDocument(_) => UnknownDocument::new_err(message),
        ClientError::Timeout(_) => Timeout::new_err(message),
        _ => NicError::new_err(message),
    }
}

/// An argument that does not parse (an id, a kind).
pub(crate) fn invalid(message: impl std::fmt::Display) -> PyErr {
    InvalidArgument::new_err(message.to_string())
}
