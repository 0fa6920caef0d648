//! The target line of a measure: the "how much by when" of the aim whose outcome measure
//! it is, when the caller may read that aim and its unit is the measure's.

use nic_insight::chart;
use nic_model::schema::aim::Aim;
use nic_model::schema::measure::MeasureDefinition;
use nic_model::{DocKind, DocMeta, DocumentId, NetworkId};

use super::load;
use crate::status::ApiError;

/// A measure's target line and where it comes from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TargetLine {
    /// The aim document.
    pub(crate) aim_id: String,
    /// The unit (the measure's, which the aim's equals).
    pub(crate) unit: String,
    /// The line as charts draw it.
    pub(crate) line: chart::Target,
}

/// The target line of `measure`, and any reason there is none although an aim names it.
pub(crate) fn find(
    src: load::Src<'_>,
    network: &NetworkId,
    measure: DocumentId,
    def: &MeasureDefinition,
    keep: impl Fn(&DocMeta) -> bool,
) -> Result<(Option<TargetLine>, Vec<String>), ApiError> {
    let aims: Vec<load::Typed<Aim>> = load::all(src, network, DocKind::Aim, keep)?;
    Ok(choose(measure, def, &aims))
}

/// Chooses among the aims (pure, for the tests): the first by document id that names the
/// measure and sets a target.
fn choose(
    measure: DocumentId,
    def: &MeasureDefinition,
    aims: &[load::Typed<Aim>],
) -> (Option<TargetLine>, Vec<String>) {
    let mut warnings = Vec::new();
    let mut naming: Vec<&load::Typed<Aim>> = aims
        .iter()
        .filter(|(_, a)| {
            a.outcome_measure_id
                .as_deref()
                .and_then(|m| m.trim().parse::<DocumentId>().ok())
                == Some(measure)
        })
        .collect();
    naming.sort_by_key(|(m, _)| m.id.to_string());
    let with_target: Vec<&load::Typed<Aim>> = naming
        .iter()
        .copied()
        .filter(|(_, a)| a.target.is_some_and(f64::is_finite))
        .collect();
    let Some((meta, aim)) = with_target.first() else {
        if let Some((m, _)) = naming.first() {
            warnings.push(format!(
                "no target line: aim {} names this measure but sets no target value",
                m.id
            ));
        }
        return (None, warnings);
    };
    if with_target.len() > 1 {
        let others: Vec<String> = with_target[1..]
            .iter()
            .map(|(m, _)| m.id.to_string())
            .collect();
        warnings.push(format!(
            "several aims name this measure with a target; the line is aim {}'s (also: {})",
            meta.id,
            others.join(", ")
        ));
    }
    let unit = def.unit.trim();
    if aim.unit.trim() != unit {
        let says = |u: &str| {
            if u.is_empty() {
                "no unit".to_owned()
            } else {
                format!("unit {u:?}")
            }
        };
        warnings.push(format!(
            "no target line: aim {}'s target has {} but the measure has {}; give the aim the \
             measure's unit",
            meta.id,
            says(aim.unit.trim()),
            says(unit)
        ));
        return (None, warnings);
    }
    let value = aim.target.unwrap_or_default();
    let label = format!(
        "target {value}{unit}{}",
        aim.by_when
            .as_deref()
            .map(|b| format!(" by {b}"))
            .unwrap_or_default()
    );
    let line = TargetLine {
        aim_id: meta.id.to_string(),
        unit: unit.to_owned(),
        line: chart::Target {
            value,
            by_when: aim.by_when.clone(),
            label,
        },
    };
    (Some(line), warnings)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use nic_model::{NetworkId, Visibility};

    use super::*;

    fn aim(measure: &str, target: Option<f64>, unit: &str) -> load::Typed<Aim> {
        let meta = DocMeta {
            id: DocumentId::random(&mut rand::rng()),
            kind: DocKind::Aim,
            network: NetworkId::new("algebra").unwrap(),
            site: None,
            visibility: Visibility::Network,
            title: "aim".into(),
            created_at_ms: 0,
            archived: false,
        };
        let aim = Aim {
            target,
            unit: unit.into(),
            by_when: Some("2027-06-01".into()),
            outcome_measure_id: Some(measure.into()),
            ..Aim::default()
        };
        (meta, aim)
    }

    fn percent() -> MeasureDefinition {
        MeasureDefinition {
            unit: "%".into(),
            ..MeasureDefinition::default()
        }
    }

    #[test]
    fn the_aim_naming_the_measure_gives_the_line() {
        let m = DocumentId::random(&mut rand::rng());
        let other = DocumentId::random(&mut rand::rng());
        let aims = [
            aim(&other.to_string(), Some(90.0), "%"),
            aim(&m.to_string(), Some(70.0), "%"),
        ];
        let (line, warnings) = choose(m, &percent(), &aims);
        let line = line.unwrap();
        assert_eq!(line.line.value, 70.0);
        assert_eq!(line.line.label, "target 70% by 2027-06-01");
        assert_eq!(line.aim_id, aims[1].0.id.to_string());
        assert!(warnings.is_empty());
    }

    #[test]
    fn another_unit_or_no_target_gives_no_line_and_says_why() {
        let m = DocumentId::random(&mut rand::rng());
        let (line, warnings) = choose(m, &percent(), &[aim(&m.to_string(), Some(0.7), "")]);
        assert!(line.is_none());
        assert!(warnings[0].contains("no unit") && warnings[0].contains("\"%\""));
        let (line, warnings) = choose(m, &percent(), &[aim(&m.to_string(), None, "%")]);
        assert!(line.is_none());
        assert!(warnings[0].contains("sets no target"));
        let (line, warnings) = choose(m, &percent(), &[]);
        assert!(line.is_none() && warnings.is_empty());
    }
}
