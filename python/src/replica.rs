//! `nic_client.Replica`: one replica, its calls blocking the calling thread on a runtime
//! shared by every replica of the process.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use nic_client::hub::{ExportFormat, ExportTable, SeriesQuery};
use nic_client::{
    Client, Connection, DocKind, DocumentId, ListFilter, NetworkId, NewDocument, ReplicaConfig,
    SiteId, Storage, Target, Tls, Visibility,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::{Value, json};

use crate::changes::Changes;
use crate::errors::{NicError, invalid, to_py};

/// The runtime every replica of the process syncs on (two workers: background sync and the
/// caller's request never wait for each other).
pub(crate) fn runtime() -> PyResult<&'static tokio::runtime::Runtime> {
    static RT: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("nic-client")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| NicError::new_err(format!("cannot start the replica's runtime: {e}")))
}

/// Runs `f` on the runtime with the interpreter released, so other Python threads go on.
fn block<T: Send>(
    py: Python<'_>,
    f: impl Future<Output = Result<T, nic_client::ClientError>> + Send,
) -> PyResult<T> {
    let rt = runtime()?;
    py.detach(|| rt.block_on(f)).map_err(to_py)
}

fn to_python<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    pythonize::pythonize(py, value).map_err(|e| NicError::new_err(e.to_string()))
}

/// Directory answers as plain records (serde's field names, ids as strings).
fn records<'py>(py: Python<'py>, value: &impl serde::Serialize) -> PyResult<Bound<'py, PyAny>> {
    let value = serde_json::to_value(value).map_err(|e| NicError::new_err(e.to_string()))?;
    to_python(py, &value)
}

fn doc_id(id: &str) -> PyResult<DocumentId> {
    id.parse().map_err(invalid)
}

fn seconds(timeout: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(timeout)
        .map_err(|_| invalid(format!("a timeout is a number of seconds, not {timeout}")))
}

/// A NIC's documents held here, synced with a nic-hub in the background: opened at once
/// whether or not the hub is reachable; edits made offline are sent when it is.
#[pyclass(module = "nic_client")]
pub(crate) struct Replica {
    client: Option<Client>,
}

impl Replica {
    fn client(&self) -> PyResult<&Client> {
        self.client
            .as_ref()
            .ok_or_else(|| NicError::new_err("the replica is closed; open a new one"))
    }
}

#[pymethods]
impl Replica {
    /// Opens a replica of the hub at `hub` (e.g. "http://127.0.0.1:50051") signed in with
    /// `token`: in the folder `path` (kept across runs), or in memory without it. With
    /// `ca_file`, the hub's TLS certificate is also trusted when that CA signed it; with
    /// `cert_file` and `key_file` (PEM), this client presents that certificate to a hub that
    /// requires client certificates (mutual TLS).
    #[new]
    #[pyo3(signature = (hub, token, path=None, ca_file=None, cert_file=None, key_file=None))]
    fn new(
        py: Python<'_>,
        hub: &str,
        token: &str,
        path: Option<PathBuf>,
        ca_file: Option<PathBuf>,
        cert_file: Option<PathBuf>,
        key_file: Option<PathBuf>,
    ) -> PyResult<Self> {
        let mut config = ReplicaConfig::new(hub, token.trim());
        if let Some(path) = path {
            config = config.storage(Storage::Dir(path));
        }
        let mut tls = None;
        if let Some(ca) = ca_file {
            tls = Some(Tls::default().ca_file(ca).map_err(to_py)?);
        }
        match (cert_file, key_file) {
            (Some(cert), Some(key)) => {
                let with = tls.unwrap_or_default().identity_files(cert, key);
                tls = Some(with.map_err(to_py)?);
            }
            (None, None) => {}
            _ => return Err(invalid("cert_file and key_file go together (mutual TLS)")),
        }
        if let Some(tls) = tls {
            config = config.tls(tls);
        }
        let client = block(py, Client::open(config))?;
        Ok(Self {
            client: Some(client),
        })
    }

    /// The networks the signed-in member belongs to (every network, for a hub admin), as
    /// records: a list of dicts.
    fn networks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client()?.clone();
        let networks = block(py, async move { client.hub().networks().await })?;
        records(py, &networks)
    }

    /// Who the token signs in as: `member` (id, name, grants), `token` and `hub_version`.
    fn whoami<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client()?.clone();
        let who = block(py, async move { client.hub().who_am_i().await })?;
        records(py, &who)
    }

    /// A network's sites (schools), as records.
    fn sites<'py>(&self, py: Python<'py>, network: &str) -> PyResult<Bound<'py, PyAny>> {
        let id = NetworkId::new(network).map_err(invalid)?;
        let client = self.client()?.clone();
        let sites = block(py, async move { client.hub().sites(&id).await })?;
        records(py, &sites)
    }

    /// A network's members (or one site's), with their roles, as records.
    #[pyo3(signature = (network, site=None))]
    fn members<'py>(
        &self,
        py: Python<'py>,
        network: &str,
        site: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = NetworkId::new(network).map_err(invalid)?;
        let site = site.map(SiteId::new).transpose().map_err(invalid)?;
        let client = self.client()?.clone();
        let members = block(
            py,
            async move { client.hub().members(&id, site.as_ref()).await },
        )?;
        records(py, &members)
    }

    /// The audit log, oldest first, as records: the whole hub's for a hub admin, one
    /// network's for its leads. Entries after sequence number `after`, at most `limit`.
    #[pyo3(signature = (network=None, after=0, limit=1000))]
    fn audit_log<'py>(
        &self,
        py: Python<'py>,
        network: Option<&str>,
        after: u64,
        limit: u32,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = network.map(NetworkId::new).transpose().map_err(invalid)?;
        let client = self.client()?.clone();
        let page = block(py, async move {
            client.hub().audit_log(id.as_ref(), after, limit).await
        })?;
        records(py, &page.entries)
    }

    /// Subscribes to a network: its documents sync here from now on (kept across runs).
    fn subscribe(&self, py: Python<'_>, network: &str) -> PyResult<()> {
        let id = NetworkId::new(network).map_err(invalid)?;
        let client = self.client()?.clone();
        block(
            py,
            async move { client.subscribe(Target::Network(id)).await },
        )
    }

    /// Waits until the hub says the network's initial sync is complete: every document it
    /// had is held here.
    #[pyo3(signature = (network, timeout=30.0))]
    fn wait_caught_up(&self, py: Python<'_>, network: &str, timeout: f64) -> PyResult<()> {
        let id = NetworkId::new(network).map_err(invalid)?;
        let timeout = seconds(timeout)?;
        let client = self.client()?.clone();
        block(py, async move {
            client.wait_caught_up(Target::Network(id), timeout).await
        })
    }

    /// The documents held here (optionally of one network, site or kind), as metadata
    /// records: id, kind, network, site, visibility, title, created_at_ms, archived.
    #[pyo3(signature = (network=None, kind=None, site=None))]
    fn documents<'py>(
        &self,
        py: Python<'py>,
        network: Option<&str>,
        kind: Option<&str>,
        site: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let filter = ListFilter {
            network: network.map(NetworkId::new).transpose().map_err(invalid)?,
            site: site.map(SiteId::new).transpose().map_err(invalid)?,
            kind: kind
                .map(str::parse::<DocKind>)
                .transpose()
                .map_err(invalid)?,
            include_archived: false,
        };
        let client = self.client()?.clone();
        let metas = block(py, async move { client.list(filter).await })?;
        to_python(py, &Value::Array(metas.iter().map(meta_json).collect()))
    }

    /// A document's whole content as plain values (its fields as the published schema
    /// names them, text as strings), with `id` and `meta` beside them.
    fn get<'py>(&self, py: Python<'py>, doc: &str) -> PyResult<Bound<'py, PyAny>> {
        let docs = self.get_many(py, vec![doc.to_owned()])?;
        docs.get_item(0)
    }

    /// Several documents' content, as `get` gives each, in the order of `docs`: much
    /// faster than one `get` each (the replica loads them in batches). Raises
    /// UnknownDocument, naming the first, if any is not held here.
    fn get_many<'py>(&self, py: Python<'py>, docs: Vec<String>) -> PyResult<Bound<'py, PyList>> {
        let ids = docs
            .iter()
            .map(|d| doc_id(d))
            .collect::<PyResult<Vec<_>>>()?;
        let client = self.client()?.clone();
        let read = {
            let ids = ids.clone();
            block(py, async move {
                client
                    .read_each(&ids, |meta, am| {
                        let mut content = nic_client::document_json(am);
                        if let Value::Object(map) = &mut content {
                            map.insert("id".into(), json!(meta.id.to_string()));
                            map.insert("meta".into(), meta_json(meta));
                        }
                        content
                    })
                    .await
            })?
        };
        let out = PyList::empty(py);
        for (id, content) in ids.iter().zip(read) {
            let content =
                content.ok_or_else(|| to_py(nic_client::ClientError::UnknownDocument(*id)))?;
            out.append(to_python(py, &content)?)?;
        }
        Ok(out)
    }

    /// Merges `changes` (a dict of field names to values; nested dicts merge, None clears
    /// an optional field, a list is written whole) into the document as one change carrying
    /// `message`. Raises EditRefused, writing nothing, when a field or value does not fit
    /// the kind or the kind's rules refuse the edit.
    fn update(
        &self,
        py: Python<'_>,
        doc: &str,
        changes: &Bound<'_, PyAny>,
        message: &str,
    ) -> PyResult<()> {
        let id = doc_id(doc)?;
        let patch: Value = pythonize::depythonize(changes).map_err(invalid)?;
        let client = self.client()?.clone();
        let message = message.to_owned();
        block(
            py,
            async move { client.update_json(id, patch, message).await },
        )
    }

    /// Creates a document of `kind` (e.g. "pdsa_cycle") in `network` (at `site`, readable
    /// by that site's team and the network's leads, when given), holding the kind's
    /// defaults with `content` merged in as `update` merges it. Returns its id.
    #[pyo3(signature = (network, kind, title, content=None, site=None))]
    fn create(
        &self,
        py: Python<'_>,
        network: &str,
        kind: &str,
        title: &str,
        content: Option<&Bound<'_, PyAny>>,
        site: Option<&str>,
    ) -> PyResult<String> {
        let kind: DocKind = kind.parse().map_err(invalid)?;
        let network = NetworkId::new(network).map_err(invalid)?;
        let new = match site {
            Some(site) => NewDocument::site(network, SiteId::new(site).map_err(invalid)?, title),
            None => NewDocument::network(network, title),
        };
        let patch: Value = match content {
            Some(c) => pythonize::depythonize(c).map_err(invalid)?,
            None => json!({}),
        };
        let client = self.client()?.clone();
        let id = block(
            py,
            async move { client.create_json(new, kind, patch).await },
        )?;
        Ok(id.to_string())
    }

    /// How the replica stands: connection ("online", "connecting" or "offline", with the
    /// reason), documents held, pending changes and documents, and whether it is up to date.
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let client = self.client()?.clone();
        let status = block(py, async move { client.status().await })?;
        let d = PyDict::new(py);
        let (connection, reason) = match &status.connection {
            Connection::Online => ("online", None),
            Connection::Connecting => ("connecting", None),
            Connection::Offline { reason, .. } => ("offline", reason.clone()),
        };
        d.set_item("connection", connection)?;
        d.set_item("offline_reason", reason)?;
        d.set_item("documents", status.documents)?;
        d.set_item("pending_changes", status.pending_changes)?;
        d.set_item("pending_documents", status.pending_documents)?;
        d.set_item("unsent_documents", status.unsent_documents)?;
        d.set_item("synced", status.is_synced())?;
        d.set_item("up_to_date", status.up_to_date)?;
        Ok(d)
    }

    /// Waits until everything made here (changes and new documents) is durable on the hub;
    /// raises HubRefused at once if the hub refused something, Timeout after `timeout`
    /// seconds.
    #[pyo3(signature = (timeout=30.0))]
    fn wait_synced(&self, py: Python<'_>, timeout: f64) -> PyResult<()> {
        let timeout = seconds(timeout)?;
        let client = self.client()?.clone();
        block(py, async move { client.wait_synced(timeout).await })
    }

    /// Waits until every change made here to the document is durable on the hub; raises
    /// HubRefused at once if the hub refused the document or a change to it.
    #[pyo3(signature = (doc, timeout=30.0))]
    fn wait_saved(&self, py: Python<'_>, doc: &str, timeout: f64) -> PyResult<()> {
        let id = doc_id(doc)?;
        let timeout = seconds(timeout)?;
        let client = self.client()?.clone();
        block(py, async move { client.wait_saved(id, timeout).await })
    }

    /// After an "adapt" decision in the cycle's Act phase, starts the next cycle on the
    /// ramp (same change idea and site, cycle number + 1, linked both ways); returns its id.
    fn start_next_cycle(&self, py: Python<'_>, doc: &str) -> PyResult<String> {
        let id = doc_id(doc)?;
        let client = self.client()?.clone();
        let next = block(py, async move { client.start_next_cycle(id).await })?;
        Ok(next.to_string())
    }

    /// Every change to the documents held here from now on, with its authors (see
    /// `Changes`).
    fn changes(&self) -> PyResult<Changes> {
        Ok(Changes::new(Box::pin(self.client()?.changes())))
    }

    /// A table from Insight as records, one dict per row with the columns `nic export`
    /// writes (numbers as numbers, empty cells as None; small groups suppressed as the hub
    /// suppresses them for this member): "series" (`measure`, its id; `group` and
    /// `focal_group` optional), "cycles" (`network`, `change_idea`), "overview"
    /// (`network`) or "district".
    #[pyo3(signature = (table, network=None, measure=None, change_idea=None, group=None, focal_group=None))]
    #[allow(clippy::too_many_arguments)] // Python keyword arguments
    fn insight<'py>(
        &self,
        py: Python<'py>,
        table: &str,
        network: Option<&str>,
        measure: Option<&str>,
        change_idea: Option<&str>,
        group: Option<String>,
        focal_group: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let need = |what: &str| invalid(format!("the {table} table needs {what}="));
        let network = || -> PyResult<NetworkId> {
            NetworkId::new(network.ok_or_else(|| need("network"))?).map_err(invalid)
        };
        let table = match table {
            "series" => ExportTable::Series {
                measure: doc_id(measure.ok_or_else(|| need("measure"))?)?,
                query: SeriesQuery {
                    group,
                    focal_group,
                    ..SeriesQuery::default()
                },
            },
            "cycles" => ExportTable::Cycles {
                network: network()?,
                change_idea: change_idea.ok_or_else(|| need("change_idea"))?.to_owned(),
            },
            "overview" => ExportTable::Overview {
                network: network()?,
            },
            "district" => ExportTable::District,
            other => {
                return Err(invalid(format!(
                    "no Insight table {other:?}: series, cycles, overview or district"
                )));
            }
        };
        let client = self.client()?.clone();
        let exported = block(py, async move {
            client.hub().export(&table, ExportFormat::Csv).await
        })?;
        to_python(
            py,
            &crate::records::from_csv(&exported.data).map_err(NicError::new_err)?,
        )
    }

    /// Stops syncing until `reconnect`; edits go on locally.
    fn go_offline(&self, py: Python<'_>) -> PyResult<()> {
        let client = self.client()?.clone();
        block(py, async move { client.go_offline().await })
    }

    /// Connects again now; returns when the attempt ends (raises if it failed).
    fn reconnect(&self, py: Python<'_>) -> PyResult<()> {
        let client = self.client()?.clone();
        block(py, async move { client.reconnect().await })
    }

    /// Saves what the replica holds and stops syncing. Further calls raise NicError.
    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        match self.client.take() {
            Some(client) => block(py, client.close()),
            None => Ok(()),
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(
        &mut self,
        py: Python<'_>,
        _exc: &Bound<'_, pyo3::types::PyTuple>,
    ) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }
}

/// A document's metadata as the `nic` command prints it.
fn meta_json(meta: &nic_client::DocMeta) -> Value {
    json!({
        "id": meta.id.to_string(),
        "kind": meta.kind.as_str(),
        "network": meta.network.to_string(),
        "site": meta.site.as_ref().map(ToString::to_string),
        "visibility": match meta.visibility {
            Visibility::Network => "network",
            Visibility::Site => "site",
        },
        "title": meta.title,
        "created_at_ms": meta.created_at_ms,
        "archived": meta.archived,
    })
}
