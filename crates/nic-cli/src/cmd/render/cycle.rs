//! A PDSA cycle, phase by phase.

use nic_model::schema::pdsa::PdsaCycle;

use super::{Page, when};

pub(super) fn cycle(c: &PdsaCycle) -> String {
    let mut page = Page::default();
    page.line(format!(
        "change idea: {}   cycle {}   purpose: {:?}",
        c.change_idea_id, c.cycle_number, c.purpose
    ));
    page.field(
        "follows cycle",
        c.previous_cycle_id.as_deref().unwrap_or(""),
    );
    page.line(format!(
        "planned: {} to {}",
        c.planned_start.as_deref().unwrap_or("?"),
        c.planned_end.as_deref().unwrap_or("?")
    ));
    let plan = &c.plan;
    page.field("plan", plan.objective.as_str());
    page.field_at(1, "who", plan.who.as_str());
    page.field_at(1, "what", plan.what.as_str());
    page.field_at(1, "when", plan.when.as_str());
    page.field_at(1, "where", plan.where_.as_str());
    page.field_at(1, "with whom", plan.population.as_str());
    page.field_at(1, "data collection", plan.data_collection.as_str());
    for q in &plan.questions {
        let result = c
            .study
            .results
            .iter()
            .find(|r| r.question_id == q.id)
            .map_or("", |r| r.result.as_str());
        page.line(format!(
            "  question [{}] ({:?} data): {}",
            q.id,
            q.data_type,
            q.question.as_str()
        ));
        page.line(format!("    predicted: {}", q.prediction.as_str()));
        page.line(format!("    found: {result}"));
    }
    let d = &c.do_;
    page.line(format!(
        "do: {}{}",
        d.what_happened.as_str(),
        match d.as_planned {
            Some(true) => " (as planned)",
            Some(false) => " (not as planned)",
            None => "",
        }
    ));
    for o in &d.observations {
        page.line(format!("  observed {}: {}", when(o.at_ms), o.text.as_str()));
    }
    page.field_at(1, "adjustments", d.adjustments.as_str());
    page.line(format!("study: {}", c.study.learning.as_str()));
    page.line(format!(
        "act: {} {}",
        c.act
            .decision
            .map(|d| format!("{d:?}").to_lowercase())
            .unwrap_or_else(|| "(open)".into()),
        c.act.rationale.as_str()
    ));
    page.field_at(
        1,
        "next cycle",
        c.act.next_cycle_id.as_deref().unwrap_or(""),
    );
    for p in &c.equity_pauses {
        page.line(format!(
            "equity pause ({} phase{}): {}",
            if p.phase.is_empty() { "?" } else { &p.phase },
            if p.by.is_empty() {
                String::new()
            } else {
                format!(", called by {}", p.by)
            },
            p.prompt.as_str()
        ));
        page.field_at(1, "reflection", p.reflection.as_str());
    }
    page.list("voices", &c.voices);
    page.findings(&c.validate());
    page.0
}
