//! A site's coaching log: visits, and comment threads with their authors.

use nic_model::schema::network::CoachingLog;

use super::{Page, when};

pub(super) fn log(l: &CoachingLog) -> String {
    let mut page = Page::default();
    if l.visits.is_empty() {
        page.line("no visits yet");
    }
    for v in &l.visits {
        page.line(format!(
            "visit {} [{}]: {}",
            if v.date.is_empty() {
                "(no date)"
            } else {
                &v.date
            },
            v.id,
            v.focus.as_str()
        ));
        page.field_at(1, "committed to", v.commitments.as_str());
        page.field_at(1, "follow-up", v.follow_up.as_str());
    }
    for t in &l.threads {
        let state = match (t.resolved, t.feedback_requested) {
            (true, _) => "resolved",
            (false, true) => "open, feedback requested",
            (false, false) => "open",
        };
        page.line(format!(
            "thread [{}] on {}{} ({state})",
            t.id,
            t.doc_id,
            if t.anchor.is_empty() {
                String::new()
            } else {
                format!(" at {}", t.anchor)
            }
        ));
        for c in &t.comments {
            let by = match (c.author.is_empty(), c.role.is_empty()) {
                (true, _) => "someone".to_owned(),
                (false, true) => c.author.clone(),
                (false, false) => format!("{} ({})", c.author, c.role),
            };
            page.field_at(1, &format!("{by}, {}", when(c.at_ms)), c.text.as_str());
        }
    }
    page.0
}
