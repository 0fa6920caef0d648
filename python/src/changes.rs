//! `nic_client.Changes`: the replica's change stream as a Python iterator.

use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use nic_client::{ChangeEvent, Missed, Origin};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use tokio_stream::{Stream, StreamExt};

use crate::errors::NicError;
use crate::replica::runtime;

type EventStream = Pin<Box<dyn Stream<Item = Result<ChangeEvent, Missed>> + Send>>;

/// Every change to the documents held here from the moment it was asked for, local or from
/// the hub, with its authors: iterate over it (each step waits for the next change), or
/// call `next(timeout)`.
#[pyclass(module = "nic_client")]
pub(crate) struct Changes {
    stream: Mutex<EventStream>,
}

impl Changes {
    pub(crate) fn new(stream: EventStream) -> Self {
        Self {
            stream: Mutex::new(stream),
        }
    }

    fn wait(&self, py: Python<'_>, timeout: Option<Duration>) -> PyResult<Option<Py<PyAny>>> {
        let rt = runtime()?;
        let next = py.detach(|| {
            let mut stream = self
                .stream
                .lock()
                .map_err(|_| "the change stream was poisoned by a panic".to_owned())?;
            Ok::<_, String>(rt.block_on(async {
                match timeout {
                    Some(t) => tokio::time::timeout(t, stream.next()).await.ok().flatten(),
                    None => stream.next().await,
                }
            }))
        });
        let next = next.map_err(NicError::new_err)?;
        match next {
            None => Ok(None),
            Some(Ok(event)) => Ok(Some(event_dict(py, &event)?.into_any().unbind())),
            Some(Err(missed)) => {
                let d = PyDict::new(py);
                d.set_item("missed", missed.0)?;
                d.set_item("message", missed.to_string())?;
                Ok(Some(d.into_any().unbind()))
            }
        }
    }
}

#[pymethods]
impl Changes {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// The next change event, waiting as long as it takes. An event is a dict: doc, origin
    /// ("local" or "remote"), authors (member ids), changes (each with hash, actor, author,
    /// message, time_ms) and heads; or, if this iterator fell behind, {"missed": n,
    /// "message": …}: re-read what you show.
    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.wait(py, None)
    }

    /// The next change event, or None if none comes within `timeout` seconds.
    #[pyo3(signature = (timeout=None))]
    fn next(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Py<PyAny>>> {
        let timeout = timeout
            .map(Duration::try_from_secs_f64)
            .transpose()
            .map_err(|_| crate::errors::invalid("a timeout is a number of seconds"))?;
        self.wait(py, timeout)
    }
}

fn event_dict<'py>(py: Python<'py>, e: &ChangeEvent) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("doc", e.doc.to_string())?;
    d.set_item(
        "origin",
        match e.origin {
            Origin::Local => "local",
            Origin::Remote => "remote",
        },
    )?;
    let authors: Vec<String> = e.authors().iter().map(ToString::to_string).collect();
    d.set_item("authors", authors)?;
    let changes = PyList::empty(py);
    for c in &e.changes {
        let cd = PyDict::new(py);
        cd.set_item("hash", c.hash.to_string())?;
        cd.set_item("actor", c.actor.to_hex_string())?;
        cd.set_item("author", c.author.as_ref().map(ToString::to_string))?;
        cd.set_item("message", c.message.clone())?;
        cd.set_item("time_ms", c.time_ms)?;
        changes.append(cd)?;
    }
    d.set_item("changes", changes)?;
    let heads: Vec<String> = e.heads.iter().map(ToString::to_string).collect();
    d.set_item("heads", heads)?;
    Ok(d)
}
