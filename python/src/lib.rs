//! `nic_client`, the Python module: the `nic-client` library's replica for Python
//! programs. Every call blocks the calling Python thread (never the others:
//! the interpreter is released while the replica works), and every value crosses as plain
//! Python (dicts, lists, strings, numbers), following the published schema.

mod changes;
mod errors;
mod records;
mod replica;

use pyo3::prelude::*;

/// The module: the `Replica` class and the exceptions.
#[pymodule]
#[pyo3(name = "nic_client")]
fn nic_client_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<replica::Replica>()?;
    m.add_class::<changes::Changes>()?;
    errors::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
