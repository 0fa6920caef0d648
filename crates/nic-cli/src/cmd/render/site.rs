//! A site team's inquiry: empathy interviews, root-cause analyses, equity audits and the
//! school improvement plan.

use nic_model::schema::site_work::{
    Cause, EmpathyInterview, EquityAudit, ImprovementPlan, RootCauseAnalysis,
};

use super::Page;

pub(super) fn interview(i: &EmpathyInterview) -> String {
    let mut page = Page::default();
    let groups = if i.interviewee_groups.is_empty() {
        String::new()
    } else {
        format!(" ({})", i.interviewee_groups.join(", "))
    };
    page.line(format!(
        "interviewed: {}{groups}",
        if i.interviewee_role.is_empty() {
            "?"
        } else {
            &i.interviewee_role
        }
    ));
    page.field("interviewer", &i.interviewer);
    page.field("date", i.date.as_deref().unwrap_or(""));
    if !i.questions.is_empty() {
        page.line("questions:");
        for (n, q) in i.questions.iter().enumerate() {
            page.field_at(1, &format!("{}", n + 1), q.as_str());
        }
    }
    page.field("notes", i.notes.as_str());
    // The same theme added on two replicas while apart is one theme.
    let mut themes: Vec<String> = Vec::new();
    for t in &i.themes {
        if !themes.contains(t) {
            themes.push(t.clone());
        }
    }
    page.list("themes", &themes);
    page.findings(&i.validate());
    page.0
}

fn causes(page: &mut Page, list: &[Cause], depth: usize) {
    for c in list {
        page.field_at(depth, &format!("cause [{}]", c.id), c.text.as_str());
        page.field_at(depth + 1, "evidence", c.evidence.as_str());
        causes(page, &c.causes, depth + 1);
    }
}

pub(super) fn rca(r: &RootCauseAnalysis) -> String {
    let mut page = Page::default();
    page.field("problem of practice", r.problem.as_str());
    if !r.categories.is_empty() {
        page.line("fishbone:");
    }
    // Two people adding the same category while apart leave two entries with its id:
    // show them as the one category they mean, with every cause of both.
    let mut seen: Vec<&str> = Vec::new();
    for c in &r.categories {
        if seen.contains(&c.id.as_str()) {
            continue;
        }
        seen.push(&c.id);
        let all: Vec<Cause> = r
            .categories
            .iter()
            .filter(|o| o.id == c.id)
            .flat_map(|o| o.causes.iter().cloned())
            .collect();
        page.line(format!(
            "  {} [{}]{}",
            c.name,
            c.id,
            if all.is_empty() {
                " (no causes yet)"
            } else {
                ""
            }
        ));
        causes(&mut page, &all, 2);
    }
    for chain in &r.why_chains {
        page.line(format!("5 whys [{}]:", chain.id));
        for (n, why) in chain.whys.iter().enumerate() {
            page.field_at(1, &format!("why {}", n + 1), why.as_str());
        }
    }
    page.list("equity lens codes", &r.equity_codes);
    page.findings(&r.validate());
    page.0
}

pub(super) fn audit(a: &EquityAudit) -> String {
    let mut page = Page::default();
    page.line(format!(
        "area audited: {}",
        if a.area.is_empty() { "?" } else { &a.area }
    ));
    for f in &a.findings {
        page.field_at(
            1,
            &format!(
                "{} [{}]",
                if f.group.is_empty() { "?" } else { &f.group },
                f.id
            ),
            f.finding.as_str(),
        );
    }
    if a.findings.is_empty() {
        page.line("  no findings yet");
    }
    page.field("sources", a.sources.as_str());
    page.0
}

/// The plan's chain; what happened to each committed cycle is shown by `nic plan show`,
/// which reads the cycles too.
pub(super) fn plan(p: &ImprovementPlan) -> String {
    let mut page = Page::default();
    page.field("problem of practice", p.problem.as_str());
    page.field("data", p.data_summary.as_str());
    page.field(
        "root cause analysis",
        p.root_cause_analysis_id.as_deref().unwrap_or(""),
    );
    page.list("aims", &p.aim_ids);
    page.list("drivers", &p.driver_ids);
    page.list("cycles planned", &p.cycle_ids);
    page.findings(&p.validate());
    page.0
}
