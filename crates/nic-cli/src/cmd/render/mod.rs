//! Documents for people and for scripts: [`show`] renders every kind readably, and with
//! `--json` prints the whole content (every field, read generically from the Automerge
//! document, so fields this version does not know are printed too) beside its metadata.
//! One file per group of kinds; this one holds the entry point and the shared helpers.

mod coaching;
mod cycle;
mod measure;
mod network;
mod site;

use nic_client::automerge::{AutoSerde, Automerge};
use nic_model::schema::{self, findings::Finding};
use nic_model::{DocKind, DocMeta};
use serde_json::{Value, json};

use crate::error::{CliError, Exit};
use crate::output::Out;

/// Prints one document: readable text, or (`--json`) its metadata and full content. A
/// document that does not read as its kind is printed (as an outline) and then refused.
pub fn show(out: Out, meta: &DocMeta, am: &Automerge) -> Result<(), CliError> {
    let json = full_json(meta, am)?;
    let text = if out.json {
        String::new()
    } else {
        format!("{}\n{}", head(meta), body(meta.kind, am, &json))
    };
    out.value(json, text.trim_end());
    // Shown all the same, but a script (and the interop tests) must hear that the content
    // does not read as its kind.
    schema::hydrates(am, meta.kind).map_err(|e| {
        CliError::invalid(format!(
            "{} does not read as a {}: {e} (printed above as it is stored)",
            meta.id,
            meta.kind.as_str()
        ))
    })
}

/// The content's root fields (`kind`, `schema` and every field of the kind) with `id` and
/// `meta` beside them: scripts read `.statement` or `.act.decision` directly.
pub fn full_json(meta: &DocMeta, am: &Automerge) -> Result<Value, CliError> {
    let content = serde_json::to_value(AutoSerde::from(am)).map_err(|e| {
        CliError::new(
            Exit::Failure,
            format!("cannot print the document as JSON: {e}"),
        )
    })?;
    let mut root = match content {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    root.insert("id".into(), json!(meta.id.to_string()));
    root.insert(
        "meta".into(),
        json!({
            "id": meta.id.to_string(),
            "kind": meta.kind.as_str(),
            "network": meta.network.to_string(),
            "site": meta.site.as_ref().map(ToString::to_string),
            "visibility": meta.visibility.as_str(),
            "title": meta.title,
            "created_at_ms": meta.created_at_ms,
            "created": when(meta.created_at_ms),
            "archived": meta.archived,
        }),
    );
    Ok(Value::Object(root))
}

/// Title, kind, where it belongs and who may read it.
fn head(meta: &DocMeta) -> String {
    let site = meta
        .site
        .as_ref()
        .map(|s| format!(", {s}"))
        .unwrap_or_default();
    let readers = match meta.visibility {
        nic_model::Visibility::Network => "the whole network",
        nic_model::Visibility::Site => "the site's team and the network's leads",
    };
    format!(
        "{} — {} ({}{site})\nid {} · created {} · readable by {readers}{}\n",
        meta.title,
        meta.kind.as_str(),
        meta.network,
        meta.id,
        when(meta.created_at_ms),
        if meta.archived { " · archived" } else { "" }
    )
}

/// The kind's readable body; a document that does not read as its kind (e.g. written by a
/// newer version with a changed shape) is shown as an outline of its fields instead.
fn body(kind: DocKind, am: &Automerge, json: &Value) -> String {
    macro_rules! typed {
        ($ty:ty, $render:path) => {
            match schema::read::<$ty, _>(am, kind) {
                Ok(v) => $render(&v),
                Err(e) => {
                    let mut page = Page::default();
                    page.line(format!(
                        "(this {} does not read as one: {e})",
                        kind.as_str()
                    ));
                    outline(&mut page, "", json, 0);
                    page.0
                }
            }
        };
    }
    use nic_model::schema::{aim, driver, measure as m, network as n, pdsa, site_work as s};
    match kind {
        DocKind::NetworkProfile => typed!(n::NetworkProfile, network::profile),
        DocKind::Aim => typed!(aim::Aim, network::aim),
        DocKind::DriverDiagram => typed!(driver::DriverDiagram, network::diagram),
        DocKind::ChangeIdea => typed!(driver::ChangeIdea, network::idea),
        DocKind::PdsaCycle => typed!(pdsa::PdsaCycle, cycle::cycle),
        DocKind::MeasureDefinition => typed!(m::MeasureDefinition, measure::definition),
        DocKind::MeasureData => typed!(m::MeasureData, measure::data),
        DocKind::EmpathyInterview => typed!(s::EmpathyInterview, site::interview),
        DocKind::RootCauseAnalysis => typed!(s::RootCauseAnalysis, site::rca),
        DocKind::EquityAudit => typed!(s::EquityAudit, site::audit),
        DocKind::ImprovementPlan => typed!(s::ImprovementPlan, site::plan),
        DocKind::CoachingLog => typed!(n::CoachingLog, coaching::log),
    }
}

/// An indented outline of a JSON value, for content no typed reader covers.
fn outline(page: &mut Page, label: &str, v: &Value, depth: usize) {
    let pad = "  ".repeat(depth);
    match v {
        Value::Object(map) => {
            if !label.is_empty() {
                page.line(format!("{pad}{label}:"));
            }
            let inner = if label.is_empty() { depth } else { depth + 1 };
            for (k, v) in map {
                outline(page, k, v, inner);
            }
        }
        Value::Array(items) => {
            page.line(format!("{pad}{label}: ({} entries)", items.len()));
            for (i, v) in items.iter().enumerate() {
                outline(page, &format!("[{i}]"), v, depth + 1);
            }
        }
        Value::String(s) => page.line(format!("{pad}{label}: {s}")),
        other => page.line(format!("{pad}{label}: {other}")),
    }
}

/// A UTC time, `YYYY-MM-DD HH:MM UTC`, from ms since the Unix epoch ("unknown" for 0).
pub fn when(ms: i64) -> String {
    if ms == 0 {
        return "at an unknown time".into();
    }
    match time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
        Err(_) => format!("{ms} ms after 1970"),
    }
}

/// Readable text being built: labelled lines, with empty values left out.
#[derive(Default)]
pub(super) struct Page(String);

impl Page {
    /// A line as given.
    fn line(&mut self, text: impl AsRef<str>) {
        self.0.push_str(text.as_ref());
        self.0.push('\n');
    }

    /// `label: value`, continuation lines indented; nothing if the value is empty.
    fn field(&mut self, label: &str, value: &str) {
        self.field_at(0, label, value);
    }

    /// [`Page::field`] indented by `depth` steps.
    fn field_at(&mut self, depth: usize, label: &str, value: &str) {
        let value = value.trim();
        if value.is_empty() {
            return;
        }
        let pad = "  ".repeat(depth);
        let more = format!("\n{pad}  ");
        self.line(format!("{pad}{label}: {}", value.replace('\n', &more)));
    }

    /// `label: a, b, c`; nothing if the list is empty.
    fn list(&mut self, label: &str, items: &[String]) {
        self.field(label, &items.join(", "));
    }

    /// What validation found, one `note:` line each.
    fn findings(&mut self, found: &[Finding]) {
        for f in found {
            self.line(format!("note: {}: {}", f.field, f.message));
        }
    }
}

#[cfg(test)]
mod tests;
