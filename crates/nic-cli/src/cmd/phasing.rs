//! `nic measure baseline` and `nic measure rebase`: where a measure's charts take their
//! centre lines and limits from, stored on its definition so every reader sees the same
//! chart.

use nic_model::DocumentId;
use nic_model::schema::Text;
use nic_model::schema::findings::Severity;
use nic_model::schema::measure::{MeasureDefinition, Rebase};
use serde_json::json;

use super::docs::MeasureCmd;
use crate::error::{CliError, Exit};
use crate::output::Out;
use crate::session::{Session, settle_writes};

/// The edit asked for, applied to a definition.
fn apply(def: &mut MeasureDefinition, c: &MeasureCmd) -> Result<String, CliError> {
    match c {
        MeasureCmd::Baseline { end, .. } => {
            def.baseline_end.clone_from(end);
            Ok(match end {
                Some(e) => format!("baseline frozen up to {e}"),
                None => "baseline no longer frozen".into(),
            })
        }
        MeasureCmd::Rebase { clear: true, .. } => {
            def.rebases.clear();
            Ok("every rebase removed".into())
        }
        MeasureCmd::Rebase {
            from: Some(from),
            remove: true,
            ..
        } => {
            let before = def.rebases.len();
            def.rebases.retain(|r| &r.from != from);
            if def.rebases.len() == before {
                return Err(CliError::new(
                    Exit::NotFound,
                    format!("the measure has no rebase from {from}; `nic docs show` lists them"),
                ));
            }
            Ok(format!("rebase from {from} removed"))
        }
        MeasureCmd::Rebase {
            from: Some(from),
            baseline_end,
            reason,
            ..
        } => {
            def.rebases.retain(|r| &r.from != from);
            def.rebases.push(Rebase {
                from: from.clone(),
                baseline_end: baseline_end.clone(),
                reason: Text::with_value(reason),
            });
            def.rebases.sort_by(|a, b| a.from.cmp(&b.from));
            Ok(format!("new limits from {from}"))
        }
        MeasureCmd::Rebase { from: None, .. }
        | MeasureCmd::Create { .. }
        | MeasureCmd::Edit { .. } => Err(CliError::invalid(
            "say --from YYYY-MM-DD, or --clear to remove every rebase",
        )),
    }
}

/// `nic measure baseline|rebase`
pub async fn phasing(out: Out, network: Option<&str>, c: MeasureCmd) -> Result<(), CliError> {
    let (MeasureCmd::Baseline { measure, .. } | MeasureCmd::Rebase { measure, .. }) = &c else {
        return Err(CliError::invalid("not a baseline or rebase command"));
    };
    let mut session = Session::load()?;
    let id: DocumentId = super::insight::resolve_measure(&mut session, network, measure).await?;
    let client = session.replica().await?;
    // The network's documents sync into the replica; the definition edited must be there.
    let _handle = client.network(session.config.network(network)?).await?;
    super::edit::wait_for(&client, id).await;
    let result: Result<(MeasureDefinition, String, Vec<String>), CliError> = async {
        let mut def = client.get::<MeasureDefinition>(id).await?.value;
        let said = apply(&mut def, &c)?;
        let findings: Vec<_> = def
            .validate()
            .into_iter()
            .filter(|f| f.field.starts_with("baseline_end") || f.field.starts_with("rebases"))
            .collect();
        if let Some(bad) = findings.iter().find(|f| f.severity == Severity::Error) {
            return Err(CliError::invalid(format!("{}: {}", bad.field, bad.message)));
        }
        let notes = findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect();
        let (baseline_end, rebases) = (def.baseline_end.clone(), def.rebases.clone());
        client
            .change::<MeasureDefinition>(id, said.clone(), move |m| {
                m.baseline_end = baseline_end;
                m.rebases = rebases;
            })
            .await?;
        Ok((def, said, notes))
    }
    .await;
    let synced = match &result {
        Ok(_) => settle_writes(&client).await,
        Err(_) => Ok(()),
    };
    client.close().await?;
    let (def, said, notes) = result?;
    let rebases: Vec<serde_json::Value> = def
        .rebases
        .iter()
        .map(|r| json!({"from": r.from, "baseline_end": r.baseline_end, "reason": r.reason.as_str()}))
        .collect();
    let mut text = format!("{}: {said}", def.name.as_str());
    for n in &notes {
        text.push_str(&format!("\nnote: {n}"));
    }
    out.value(
        json!({"id": id.to_string(), "baseline_end": def.baseline_end, "rebases": rebases,
               "notes": notes}),
        &text,
    );
    synced
}
