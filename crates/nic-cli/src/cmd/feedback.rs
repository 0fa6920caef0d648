//! Feedback threads on any document, kept in the coaching log of the document's site: a
//! team asks for a coach's feedback, people reply, someone resolves it; a coach's inbox
//! lists the open requests across every site they may read.

use clap::Subcommand;
use nic_model::DocumentId;
use nic_model::schema::Text;
use nic_model::schema::network::{CoachingLog, Comment, Thread};
use serde_json::json;

use super::coaching::{log_of, logs};
use super::edit::{self, Open};
use crate::error::{CliError, Exit};
use crate::output::Out;

/// `nic feedback …`
#[derive(Subcommand)]
pub enum FeedbackCmd {
    /// Ask a coach for feedback on a document. The thread goes to the coaching log of the
    /// document's site (for a network-level document, such as the aim, your own site's).
    Request {
        /// The document (id or unique prefix).
        doc: String,
        /// What you would like feedback on.
        text: String,
        /// Where in it, e.g. `plan.questions[q1].prediction`, or a phase such as `study`.
        #[arg(long, default_value = "")]
        anchor: String,
    },
    /// Reply in a thread.
    Reply {
        /// The thread, by id or a unique start of it.
        thread: String,
        /// The reply.
        text: String,
    },
    /// Mark a thread resolved.
    Resolve {
        /// The thread, by id or a unique start of it.
        thread: String,
    },
    /// Show a thread's comments.
    Show {
        /// The thread, by id or a unique start of it.
        thread: String,
    },
    /// The open feedback requests in the sites you may read, oldest first.
    Inbox,
}

/// The thread `text` names in the logs held here: (log, thread).
async fn find(o: &Open, text: &str) -> Result<(DocumentId, Thread), CliError> {
    let text = text.trim();
    let mut found = Vec::new();
    for l in logs(o).await? {
        for t in l.value.threads {
            if t.id == text {
                return Ok((l.meta.id, t));
            }
            if !text.is_empty() && t.id.starts_with(text) {
                found.push((l.meta.id, t));
            }
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(CliError::new(
            Exit::NotFound,
            format!(
                "no feedback thread {text:?} in the coaching logs you may read; `nic feedback inbox` lists the open ones"
            ),
        )),
        n => Err(CliError::invalid(format!(
            "{text:?} starts {n} threads' ids; type more of it"
        ))),
    }
}

fn comment(author: String, role: String, text: &str) -> Comment {
    Comment {
        id: edit::fresh_id("c"),
        author,
        role,
        at_ms: edit::now_ms(),
        text: Text::with_value(text),
    }
}

/// `nic feedback …`
pub async fn feedback(out: Out, network: Option<&str>, c: FeedbackCmd) -> Result<(), CliError> {
    let mut o = edit::open(network, true).await?;
    let result = run(&mut o, out, c).await;
    let (said, synced) = o.finish(result).await?;
    if let Some((value, text)) = said {
        out.value(value, &text);
    }
    synced
}

async fn run(
    o: &mut Open,
    out: Out,
    c: FeedbackCmd,
) -> Result<Option<(serde_json::Value, String)>, CliError> {
    match c {
        FeedbackCmd::Request { doc, text, anchor } => {
            if text.trim().is_empty() {
                return Err(CliError::invalid("say what you would like feedback on"));
            }
            let doc = o.doc(&doc).await?;
            let me = edit::me(&mut o.session).await?;
            let site = match o.client.meta(doc).await?.site {
                Some(s) => Some(s),
                None => me.site.map(nic_model::SiteId::new).transpose()?,
            };
            let log = log_of(o, site.as_ref()).await?;
            let (author, role) = (me.member, me.role);
            let id = edit::fresh_id("t");
            let thread = Thread {
                id: id.clone(),
                doc_id: doc.to_string(),
                anchor,
                feedback_requested: true,
                resolved: false,
                comments: vec![comment(author, role, &text)],
            };
            o.client
                .change::<CoachingLog>(log, "Feedback requested", move |l| l.threads.push(thread))
                .await?;
            Ok(Some((
                json!({"thread": id, "doc": doc.to_string(), "log": log.to_string()}),
                format!("feedback requested: thread {id}"),
            )))
        }
        FeedbackCmd::Reply { thread, text } => {
            if text.trim().is_empty() {
                return Err(CliError::invalid("a reply needs its text"));
            }
            let (log, t) = find(o, &thread).await?;
            let me = edit::me(&mut o.session).await?;
            let c = comment(me.member, me.role, &text);
            let target = t.id.clone();
            o.client
                .change::<CoachingLog>(log, "Feedback reply", move |l| {
                    if let Some(t) = l.threads.iter_mut().find(|t| t.id == target) {
                        t.comments.push(c);
                    }
                })
                .await?;
            Ok(Some((
                json!({"thread": t.id}),
                format!("replied in {}", t.id),
            )))
        }
        FeedbackCmd::Resolve { thread } => {
            let (log, t) = find(o, &thread).await?;
            let target = t.id.clone();
            o.client
                .change::<CoachingLog>(log, "Feedback resolved", move |l| {
                    if let Some(t) = l.threads.iter_mut().find(|t| t.id == target) {
                        t.resolved = true;
                    }
                })
                .await?;
            Ok(Some((
                json!({"thread": t.id, "resolved": true}),
                format!("{} resolved", t.id),
            )))
        }
        FeedbackCmd::Show { thread } => {
            let (_, t) = find(o, &thread).await?;
            let comments: Vec<serde_json::Value> = t
                .comments
                .iter()
                .map(|c| json!({"author": c.author, "role": c.role, "at_ms": c.at_ms, "text": c.text.as_str()}))
                .collect();
            let mut text = format!(
                "thread {} on {}{} ({})",
                t.id,
                t.doc_id,
                if t.anchor.is_empty() {
                    String::new()
                } else {
                    format!(" at {}", t.anchor)
                },
                if t.resolved { "resolved" } else { "open" }
            );
            for c in &t.comments {
                text.push_str(&format!("\n{} ({}): {}", c.author, c.role, c.text.as_str()));
            }
            Ok(Some((
                json!({"thread": t.id, "doc": t.doc_id, "anchor": t.anchor, "resolved": t.resolved,
                       "feedback_requested": t.feedback_requested, "comments": comments}),
                text,
            )))
        }
        FeedbackCmd::Inbox => {
            let mut open = Vec::new();
            for l in logs(o).await? {
                let site = l
                    .meta
                    .site
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                for t in l.value.threads {
                    if !t.feedback_requested || t.resolved {
                        continue;
                    }
                    let first = t.comments.first();
                    let asked_at = first.map_or(0, |c| c.at_ms);
                    let last = t.comments.last();
                    // Waiting on the coach until a coach has written last.
                    let waiting = if last.is_some_and(|c| c.role == "coach") {
                        "team"
                    } else {
                        "coach"
                    };
                    let title = match t.doc_id.parse::<DocumentId>() {
                        Ok(d) => o.client.meta(d).await.map(|m| m.title).unwrap_or_default(),
                        Err(_) => String::new(),
                    };
                    open.push((
                        asked_at,
                        vec![
                            t.id.clone(),
                            site.clone(),
                            format!("{} {}", t.doc_id, title).trim().to_owned(),
                            t.anchor.clone(),
                            first.map(|c| c.author.clone()).unwrap_or_default(),
                            first
                                .map(|c| c.text.as_str().to_owned())
                                .unwrap_or_default(),
                            t.comments.len().to_string(),
                            waiting.to_owned(),
                        ],
                    ));
                }
            }
            open.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1[0].cmp(&b.1[0])));
            let rows: Vec<Vec<String>> = open.into_iter().map(|(_, r)| r).collect();
            out.table(
                &[
                    "thread",
                    "site",
                    "doc",
                    "anchor",
                    "from",
                    "asked",
                    "comments",
                    "waiting_on",
                ],
                &rows,
            );
            Ok(None)
        }
    }
}
