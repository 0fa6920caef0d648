//! `nic interview`: a site team records an empathy interview — who (by role and student
//! group, never by name), when, the questions and what was heard — and the themes drawn
//! from it. Interviews are `site`-visible: the site's team and the network's leads read
//! them, other schools do not (docs/DOMAIN.md, Privacy).

use clap::Subcommand;
use nic_model::schema::Text;
use nic_model::schema::site_work::EmpathyInterview;
use nic_model::{DocKind, Visibility};
use serde_json::json;

use super::site_docs::{self, Done};
use crate::error::CliError;
use crate::output::Out;

/// `nic interview …`
#[derive(Subcommand)]
pub enum InterviewCmd {
    /// Record an interview at your site (kept to the site's team and the network's leads).
    Create {
        /// The site.
        #[arg(long)]
        site: String,
        /// Who was interviewed, by role (student, parent, teacher…), never by name.
        #[arg(long)]
        role: String,
        /// Their student group, e.g. english_learner; repeatable.
        #[arg(long = "group")]
        groups: Vec<String>,
        /// When, YYYY-MM-DD.
        #[arg(long)]
        date: Option<String>,
        /// Who interviewed (a member id).
        #[arg(long, default_value = "")]
        interviewer: String,
        /// A question asked; repeatable, in order.
        #[arg(long = "question")]
        questions: Vec<String>,
        /// What was heard: answers, quotes, what you noticed.
        #[arg(long, default_value = "")]
        notes: String,
        /// A theme drawn from it; repeatable.
        #[arg(long = "theme")]
        themes: Vec<String>,
    },
    /// Add to an interview: themes, questions, notes (added after what is there).
    Add {
        /// The interview: its id or a unique prefix.
        interview: String,
        /// A theme; repeatable.
        #[arg(long = "theme")]
        themes: Vec<String>,
        /// A question; repeatable.
        #[arg(long = "question")]
        questions: Vec<String>,
        /// More notes (a quote, an answer).
        #[arg(long)]
        note: Option<String>,
    },
    /// Show an interview.
    Show {
        /// The interview: its id or a unique prefix.
        interview: String,
    },
}

/// `nic interview …`
pub async fn interview(out: Out, network: Option<&str>, c: InterviewCmd) -> Result<(), CliError> {
    site_docs::run(out, network, |network| async move {
        match c {
            InterviewCmd::Create {
                site,
                role,
                groups,
                date,
                interviewer,
                questions,
                notes,
                themes,
            } => {
                site_docs::not_empty("the interviewee's role", &role)?;
                let date = site_docs::date("the date", date)?;
                let title = format!(
                    "Interview: {role}{}",
                    date.as_deref().map(|d| format!(", {d}")).unwrap_or_default()
                );
                let value = EmpathyInterview {
                    interviewee_role: role,
                    interviewee_groups: groups,
                    interviewer,
                    date,
                    questions: questions.iter().map(Text::with_value).collect(),
                    notes: Text::with_value(&notes),
                    themes: dedup(themes),
                };
                let id = site_docs::create_at(&network, &site, Visibility::Site, title, &value)
                    .await?;
                Ok(Done {
                    json: json!({"id": id.to_string(), "visibility": "site"}),
                    text: format!(
                        "interview {id} recorded at {site} (readable by {site}'s team and the network's leads)"
                    ),
                    wrote: true,
                })
            }
            InterviewCmd::Add {
                interview,
                themes,
                questions,
                note,
            } => {
                if themes.is_empty() && questions.is_empty() && note.is_none() {
                    return Err(CliError::invalid(
                        "nothing to add: give --theme, --question or --note",
                    ));
                }
                let id = site_docs::named(&network, &interview, DocKind::EmpathyInterview).await?;
                let added = themes.len();
                site_docs::change::<EmpathyInterview>(
                    network.client(),
                    id,
                    "Interview: added",
                    move |i| {
                        for t in themes {
                            if !i.themes.contains(&t) {
                                i.themes.push(t);
                            }
                        }
                        i.questions
                            .extend(questions.iter().map(Text::with_value));
                        if let Some(note) = note {
                            append(&mut i.notes, &note);
                        }
                    },
                )
                .await?;
                Ok(Done {
                    json: json!({"id": id.to_string(), "themes_added": added}),
                    text: format!("interview {id} updated"),
                    wrote: true,
                })
            }
            InterviewCmd::Show { interview } => {
                let id = site_docs::named(&network, &interview, DocKind::EmpathyInterview).await?;
                site_docs::show(out, &network, id).await
            }
        }
    })
    .await
}

/// Themes once each, in the order given.
fn dedup(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// Adds a paragraph to collaborative text, after what is there (so a concurrent addition
/// elsewhere merges beside it rather than replacing it).
pub fn append(text: &mut Text, more: &str) {
    // `update` diffs old and new, so the edit is an insertion at the end, in whatever
    // positions Automerge counts in (splice would need them right for non-ASCII text).
    let old = text.as_str().to_owned();
    let sep = if old.is_empty() { "" } else { "\n" };
    text.update(format!("{old}{sep}{more}"));
}
