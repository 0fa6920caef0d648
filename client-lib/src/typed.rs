//! The typed API: improvement-science documents as `nic-model` values.

use automerge::transaction::CommitOptions;
use nic_model::schema::{self, aim, driver, measure, network, pdsa, site_work};
use nic_model::{DocKind, DocMeta, DocumentId, NetworkId, SiteId, Visibility};
use nic_store::ListFilter;
use nic_sync::Target;
use nic_sync::automerge::{self, Automerge};

use crate::{Client, ClientError};

/// A document kind with a typed value in `nic-model`.
pub trait Typed: autosurgeon::Hydrate + autosurgeon::Reconcile + Clone + Send + 'static {
    /// The kind the value is stored as.
    const KIND: DocKind;

    /// Checks an edit before it is written; `Err` says why it is refused and what to do
    /// instead. Most kinds accept every edit.
    fn check_edit(_before: &Self, _after: &Self) -> Result<(), String> {
        Ok(())
    }
}

macro_rules! typed {
    ($($ty:ty => $kind:ident),* $(,)?) => {
        $(impl Typed for $ty {
            const KIND: DocKind = DocKind::$kind;
        })*
    };
}

typed! {
    aim::Aim => Aim,
    driver::DriverDiagram => DriverDiagram,
    driver::ChangeIdea => ChangeIdea,
    measure::MeasureDefinition => MeasureDefinition,
    measure::MeasureData => MeasureData,
    network::NetworkProfile => NetworkProfile,
    network::CoachingLog => CoachingLog,
    site_work::EmpathyInterview => EmpathyInterview,
    site_work::RootCauseAnalysis => RootCauseAnalysis,
    site_work::EquityAudit => EquityAudit,
    site_work::ImprovementPlan => ImprovementPlan,
}

impl Typed for pdsa::PdsaCycle {
    const KIND: DocKind = DocKind::PdsaCycle;

    /// Predictions are fixed once the Do phase has data.
    fn check_edit(before: &Self, after: &Self) -> Result<(), String> {
        before.check_edit(after).map_err(|e| e.to_string())
    }
}

/// A typed document: its metadata and its value.
#[derive(Clone, Debug)]
pub struct Document<T> {
    /// Its metadata (id, network, site, title, …).
    pub meta: DocMeta,
    /// Its content.
    pub value: T,
}

/// Where a new document goes and what it is called.
#[derive(Clone, Debug)]
pub struct NewDocument {
    /// The network it belongs to.
    pub network: NetworkId,
    /// The owning site, `None` for a network-level document.
    pub site: Option<SiteId>,
    /// Who may read it.
    pub visibility: Visibility,
    /// A short title for listings.
    pub title: String,
}

impl NewDocument {
    /// A network-level document every member of the network may read.
    pub fn network(network: NetworkId, title: impl Into<String>) -> Self {
        Self {
            network,
            site: None,
            visibility: Visibility::Network,
            title: title.into(),
        }
    }

    /// A site's document the whole network may read (the usual case: networks learn from
    /// each other's cycles).
    pub fn site(network: NetworkId, site: SiteId, title: impl Into<String>) -> Self {
        Self {
            network,
            site: Some(site),
            visibility: Visibility::Network,
            title: title.into(),
        }
    }
}

/// A change's commit options: its message, and now as its time.
pub(crate) fn commit_options(message: impl Into<String>) -> CommitOptions {
    CommitOptions::default()
        .with_message(message.into())
        .with_time(now_ms())
}

/// The metadata of a document created here now.
pub(crate) fn new_meta(id: DocumentId, kind: DocKind, new: NewDocument) -> DocMeta {
    DocMeta {
        id,
        kind,
        network: new.network,
        site: new.site,
        visibility: new.visibility,
        title: new.title,
        created_at_ms: now_ms(),
        archived: false,
    }
}

/// Now, as milliseconds since the Unix epoch (a change's time).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Client {
    /// Reads a document as a `T`.
    pub async fn get<T: Typed>(&self, doc: DocumentId) -> Result<Document<T>, ClientError> {
        let meta = self.meta(doc).await?;
        let value = self
            .read(doc, |am| schema::read::<T, _>(am, T::KIND))
            .await?
            .ok_or(ClientError::UnknownDocument(doc))?
            .map_err(|source| ClientError::Schema {
                doc,
                source: Box::new(source),
            })?;
        Ok(Document { meta, value })
    }

    /// Changes a `T` document with `f`: what `f` changes becomes one Automerge change
    /// carrying `message`, saved locally before this returns. Fields `f` leaves alone are
    /// not touched, so concurrent edits elsewhere merge. An edit the kind's rules refuse
    /// (see [`Typed::check_edit`]) writes nothing and returns [`ClientError::EditRefused`].
    pub async fn change<T: Typed>(
        &self,
        doc: DocumentId,
        message: impl Into<String>,
        f: impl FnOnce(&mut T) + Send + 'static,
    ) -> Result<(), ClientError> {
        let message = message.into();
        self.edit(doc, move |am: &mut Automerge| {
            change_in(am, doc, &message, f)
        })
        .await?
    }

    /// Creates a `T` document under a fresh id, saved locally before this returns and sent
    /// to the hub now or when it is next reachable.
    pub async fn create<T: Typed>(
        &self,
        new: NewDocument,
        value: &T,
    ) -> Result<DocumentId, ClientError> {
        let id = DocumentId::random(&mut rand::rng());
        let meta = new_meta(id, T::KIND, new);
        let mut am = Automerge::new();
        am.set_actor(self.actor().clone());
        // autosurgeon panics on text hydrated from another document (its heads are not in
        // this one): report that as a mistake to fix rather than take the caller down.
        let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            am.transact_with::<_, _, schema::SchemaError, _>(
                |_| commit_options(format!("Create {}", T::KIND.as_str())),
                |tx| schema::write(tx, T::KIND, value),
            )
            .map(|_| ())
            .map_err(|f| Box::new(f.error))
        }))
        .map_err(|_| ClientError::EditRefused {
            doc: id,
            reason: "the new value holds text read from another document; build its text with Text::with_value".into(),
        })?;
        written.map_err(|source| ClientError::Schema { doc: id, source })?;
        self.create_raw(meta, am).await?;
        Ok(id)
    }

    /// After an "adapt" decision, starts the next cycle on the ramp: same change idea,
    /// site and purpose, cycle number + 1, linked both ways (the old cycle's
    /// `act.next_cycle_id` names the new one). Refused unless the cycle's decision is adapt.
    pub async fn start_next_cycle(&self, doc: DocumentId) -> Result<DocumentId, ClientError> {
        let this: Document<pdsa::PdsaCycle> = self.get(doc).await?;
        let next = this
            .value
            .next_from_adapt(&doc.to_string())
            .ok_or_else(|| ClientError::EditRefused {
                doc,
                reason: "the next cycle starts from an \"adapt\" decision; record the Act phase's decision as adapt first".into(),
            })?;
        let title = format!(
            "{} — cycle {}",
            this.value.change_idea_id, next.cycle_number
        );
        let new = NewDocument {
            network: this.meta.network.clone(),
            site: this.meta.site.clone(),
            visibility: this.meta.visibility,
            title,
        };
        let id = self.create(new, &next).await?;
        let next_id = id.to_string();
        self.change::<pdsa::PdsaCycle>(doc, "Act: next cycle started", move |c| {
            c.act.next_cycle_id = Some(next_id);
        })
        .await?;
        Ok(id)
    }

    /// A document's metadata, if held here.
    pub async fn meta(&self, doc: DocumentId) -> Result<DocMeta, ClientError> {
        self.call(|reply| crate::task::Cmd::Meta(doc, reply))
            .await?
            .ok_or(ClientError::UnknownDocument(doc))
    }

    /// A handle on one network's documents; subscribes to the network (kept across
    /// restarts) so its documents sync here.
    pub async fn network(&self, id: NetworkId) -> Result<Network, ClientError> {
        self.subscribe(Target::Network(id.clone())).await?;
        Ok(Network {
            client: self.clone(),
            id,
        })
    }
}

/// The typed edit inside one transaction: read, apply, check, write back what changed.
///
/// The value is read inside the transaction, not before it: text read from a document
/// remembers the heads it was read at, and writing it back checks them against the
/// transaction's base heads, which also name this actor's own last change when another
/// member's change has come after it. Read before, every edit of a document someone else
/// changed since this replica last did would be refused as stale.
fn change_in<T: Typed>(
    am: &mut Automerge,
    doc: DocumentId,
    message: &str,
    f: impl FnOnce(&mut T),
) -> Result<(), ClientError> {
    let schema_error = |source| ClientError::Schema {
        doc,
        source: Box::new(source),
    };
    am.transact_with::<_, _, ClientError, _>(
        |_| commit_options(message),
        |tx| {
            let before: T = schema::read(tx, T::KIND).map_err(schema_error)?;
            let mut after = before.clone();
            f(&mut after);
            T::check_edit(&before, &after)
                .map_err(|reason| ClientError::EditRefused { doc, reason })?;
            schema::write(tx, T::KIND, &after).map_err(schema_error)
        },
    )
    .map(|_| ())
    .map_err(|f| f.error)
}

#[cfg(test)]
mod tests {
    use nic_model::schema::network::{CoachingLog, Comment, Thread};
    use nic_model::schema::pdsa::PdsaCycle;
    use nic_sync::automerge::ActorId;

    use super::*;

    fn comment(id: &str, text: &str) -> Comment {
        Comment {
            id: id.into(),
            text: schema::Text::with_value(text),
            ..Comment::default()
        }
    }

    #[test]
    fn a_member_edits_after_another_members_change() {
        // Sam opens a thread; the coach replies on another replica; Sam replies again. The
        // transaction's base heads then name Sam's own last change beside the coach's.
        let id = DocumentId::from_bytes([7; 16]);
        let mut sam = Automerge::new().with_actor(ActorId::from(b"sam".to_vec()));
        let log = CoachingLog {
            threads: vec![Thread {
                id: "t1".into(),
                ..Thread::default()
            }],
            ..CoachingLog::default()
        };
        sam.transact::<_, _, schema::SchemaError>(|tx| {
            schema::write(tx, DocKind::CoachingLog, &log)
        })
        .unwrap();
        change_in::<CoachingLog>(&mut sam, id, "ask", |l| {
            l.threads[0]
                .comments
                .push(comment("c1", "Is this testable?"));
        })
        .unwrap();
        let mut coach = sam.fork().with_actor(ActorId::from(b"coach".to_vec()));
        change_in::<CoachingLog>(&mut coach, id, "reply", |l| {
            l.threads[0]
                .comments
                .push(comment("c2", "Say how you count"));
        })
        .unwrap();
        sam.merge(&mut coach).unwrap();
        change_in::<CoachingLog>(&mut sam, id, "reply", |l| {
            l.threads[0].comments.push(comment("c3", "At the bell"));
            l.threads[0].resolved = true;
        })
        .unwrap();
        let read: CoachingLog = schema::read(&sam, DocKind::CoachingLog).unwrap();
        let texts: Vec<&str> = read.threads[0]
            .comments
            .iter()
            .map(|c| c.text.as_str())
            .collect();
        assert_eq!(
            texts,
            ["Is this testable?", "Say how you count", "At the bell"]
        );
        assert!(read.threads[0].resolved);

        // The same for a cycle, whose prose is all text: the refusal of a changed
        // prediction still holds.
        let mut a = Automerge::new().with_actor(ActorId::from(b"a".to_vec()));
        let mut cycle = PdsaCycle::default();
        cycle.plan.objective = schema::Text::with_value("o");
        a.transact::<_, _, schema::SchemaError>(|tx| schema::write(tx, DocKind::PdsaCycle, &cycle))
            .unwrap();
        change_in::<PdsaCycle>(&mut a, id, "voices", |c| c.voices.push("students".into())).unwrap();
        let mut b = a.fork().with_actor(ActorId::from(b"b".to_vec()));
        change_in::<PdsaCycle>(&mut b, id, "do", |c| c.do_.as_planned = Some(true)).unwrap();
        a.merge(&mut b).unwrap();
        change_in::<PdsaCycle>(&mut a, id, "voices", |c| c.voices.push("families".into())).unwrap();
    }
}

/// One network's documents in this replica. Lists read what is held locally, so they work
/// offline and show what has synced so far.
#[derive(Clone)]
pub struct Network {
    client: Client,
    id: NetworkId,
}

impl Network {
    /// The network's id.
    pub fn id(&self) -> &NetworkId {
        &self.id
    }

    /// The client this handle uses.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Every held document of kind `T` in this network (not archived), by document id.
    /// A document whose content does not read as a `T` is left out and logged.
    pub async fn list<T: Typed>(&self) -> Result<Vec<Document<T>>, ClientError> {
        let metas = self
            .client
            .list(ListFilter {
                network: Some(self.id.clone()),
                kind: Some(T::KIND),
                ..ListFilter::default()
            })
            .await?;
        let mut out = Vec::with_capacity(metas.len());
        for meta in metas {
            let doc = meta.id;
            match self
                .client
                .read(doc, |am| schema::read::<T, _>(am, T::KIND))
                .await?
            {
                Some(Ok(value)) => out.push(Document { meta, value }),
                Some(Err(e)) => {
                    tracing::warn!(%doc, error = %e, "skipping a document that does not read")
                }
                None => {}
            }
        }
        Ok(out)
    }

    /// The network's aims.
    pub async fn aims(&self) -> Result<Vec<Document<aim::Aim>>, ClientError> {
        self.list().await
    }

    /// The network's change ideas.
    pub async fn change_ideas(&self) -> Result<Vec<Document<driver::ChangeIdea>>, ClientError> {
        self.list().await
    }

    /// Every PDSA cycle in the network, at every site.
    pub async fn cycles(&self) -> Result<Vec<Document<pdsa::PdsaCycle>>, ClientError> {
        self.list().await
    }

    /// The cycles testing one change idea, by site and then cycle number.
    pub async fn cycles_of(
        &self,
        change_idea: &str,
    ) -> Result<Vec<Document<pdsa::PdsaCycle>>, ClientError> {
        let mut cycles: Vec<_> = self
            .cycles()
            .await?
            .into_iter()
            .filter(|c| c.value.change_idea_id == change_idea)
            .collect();
        cycles.sort_by(|a, b| {
            (&a.meta.site, a.value.cycle_number).cmp(&(&b.meta.site, b.value.cycle_number))
        });
        Ok(cycles)
    }

    /// The network's measure definitions.
    pub async fn measures(&self) -> Result<Vec<Document<measure::MeasureDefinition>>, ClientError> {
        self.list().await
    }

    /// Creates a network-level document (an aim, a change idea, a measure definition…).
    pub async fn create<T: Typed>(
        &self,
        title: impl Into<String>,
        value: &T,
    ) -> Result<DocumentId, ClientError> {
        self.client
            .create(NewDocument::network(self.id.clone(), title), value)
            .await
    }

    /// Creates a site's document (a PDSA cycle, measure data, an interview…), readable by
    /// the whole network.
    pub async fn create_at<T: Typed>(
        &self,
        site: SiteId,
        title: impl Into<String>,
        value: &T,
    ) -> Result<DocumentId, ClientError> {
        self.client
            .create(NewDocument::site(self.id.clone(), site, title), value)
            .await
    }
}
