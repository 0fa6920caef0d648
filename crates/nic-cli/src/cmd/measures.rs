//! A measure definition's fields beyond its name and numerator — type, source, frequency,
//! exclusions, who collects it, unit — set on `nic measure create` and changed with
//! `nic measure edit`.

use clap::{Args, ValueEnum};
use nic_model::schema::Text;
use nic_model::schema::findings::Severity;
use nic_model::schema::measure::{self, MeasureDefinition, MeasureType};
use serde_json::json;

use super::docs::{DirectionArg, ScoringArg};
use super::edit;
use crate::error::CliError;
use crate::output::Out;

/// What a measure tracks.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TypeArg {
    /// The aim's outcome.
    Outcome,
    /// Whether the change is carried out.
    Process,
    /// Whether something else got worse.
    Balancing,
}

/// The fields `create` and `edit` share (on `create`, unset ones keep their defaults).
#[derive(Args, Default)]
pub struct MeasureFields {
    /// Outcome, process or balancing (default on create: outcome).
    #[arg(long = "type", value_enum)]
    pub measure_type: Option<TypeArg>,
    /// Where the data comes from, e.g. "gradebook export".
    #[arg(long)]
    pub source: Option<String>,
    /// How often it is collected, e.g. weekly.
    #[arg(long)]
    pub frequency: Option<String>,
    /// What is left out.
    #[arg(long)]
    pub exclusions: Option<String>,
    /// Who collects it.
    #[arg(long)]
    pub collected_by: Option<String>,
    /// The unit, e.g. % (default on create: % for a proportion).
    #[arg(long)]
    pub unit: Option<String>,
}

impl MeasureFields {
    /// Writes the fields given onto `m`.
    pub fn apply(self, m: &mut MeasureDefinition) {
        if let Some(t) = self.measure_type {
            m.measure_type = match t {
                TypeArg::Outcome => MeasureType::Outcome,
                TypeArg::Process => MeasureType::Process,
                TypeArg::Balancing => MeasureType::Balancing,
            };
        }
        let d = &mut m.definition;
        for (given, field) in [
            (self.source, &mut d.data_source),
            (self.exclusions, &mut d.exclusions),
            (self.collected_by, &mut d.collected_by),
        ] {
            if let Some(v) = given {
                *field = Text::with_value(&v);
            }
        }
        if let Some(f) = self.frequency {
            d.frequency = f;
        }
        if let Some(u) = self.unit {
            m.unit = u;
        }
    }
}

/// How a value is computed, as the schema says it.
pub fn scoring(s: ScoringArg) -> measure::Scoring {
    match s {
        ScoringArg::Proportion => measure::Scoring::Proportion,
        ScoringArg::Ratio => measure::Scoring::Ratio,
        ScoringArg::Count => measure::Scoring::Count,
        ScoringArg::Continuous => measure::Scoring::Continuous,
    }
}

/// Which way is better, as the schema says it.
pub fn direction(d: DirectionArg) -> measure::Direction {
    match d {
        DirectionArg::Up => measure::Direction::Up,
        DirectionArg::Down => measure::Direction::Down,
    }
}

/// The changes `nic measure edit` asks for.
pub struct Edit {
    /// The measure (id or unique prefix).
    pub measure: String,
    /// A new name.
    pub name: Option<String>,
    /// A new numerator.
    pub numerator: Option<String>,
    /// A new denominator.
    pub denominator: Option<String>,
    /// A new scoring.
    pub scoring: Option<ScoringArg>,
    /// A new direction.
    pub direction: Option<DirectionArg>,
    /// New group dimensions (replacing the old).
    pub dimensions: Vec<String>,
    /// The rest.
    pub fields: MeasureFields,
}

/// `nic measure edit`: changes the fields given, refusing a result the schema calls an
/// error (a proportion without its denominator, no numerator).
pub async fn edit(out: Out, network: Option<&str>, e: Edit) -> Result<(), CliError> {
    let o = edit::open(network, false).await?;
    let result = async {
        let id = o.doc(&e.measure).await?;
        let mut after = o.client.get::<MeasureDefinition>(id).await?.value;
        if let Some(n) = &e.name {
            after.name = Text::with_value(n);
        }
        if let Some(n) = &e.numerator {
            after.definition.numerator = Text::with_value(n);
        }
        if let Some(d) = &e.denominator {
            after.definition.denominator = Text::with_value(d);
        }
        if let Some(s) = e.scoring {
            after.scoring = scoring(s);
        }
        if let Some(d) = e.direction {
            after.direction = direction(d);
        }
        if !e.dimensions.is_empty() {
            after.group_dimensions.clone_from(&e.dimensions);
        }
        e.fields.apply(&mut after);
        refuse_errors(&after)?;
        let written = after.clone();
        o.client
            .change::<MeasureDefinition>(id, "Measure definition edited", move |m| {
                // Only what was read and changed above: texts are written fresh, so the
                // untouched ones are copied back as they were.
                if m.name.as_str() != written.name.as_str() {
                    m.name = Text::with_value(written.name.as_str());
                }
                m.measure_type = written.measure_type;
                m.scoring = written.scoring;
                m.direction = written.direction;
                m.unit = written.unit;
                m.group_dimensions = written.group_dimensions;
                let (d, w) = (&mut m.definition, &written.definition);
                for (field, value) in [
                    (&mut d.numerator, &w.numerator),
                    (&mut d.denominator, &w.denominator),
                    (&mut d.exclusions, &w.exclusions),
                    (&mut d.data_source, &w.data_source),
                    (&mut d.collected_by, &w.collected_by),
                ] {
                    if field.as_str() != value.as_str() {
                        *field = Text::with_value(value.as_str());
                    }
                }
                d.frequency.clone_from(&w.frequency);
            })
            .await?;
        Ok((id, after))
    }
    .await;
    let ((id, m), synced) = o.finish(result).await?;
    out.value(
        json!({"id": id.to_string(), "name": m.name.as_str(), "type": format!("{:?}", m.measure_type).to_lowercase(),
               "source": m.definition.data_source.as_str(), "frequency": m.definition.frequency,
               "direction": format!("{:?}", m.direction).to_lowercase(), "unit": m.unit}),
        &format!("measure {} updated", m.name.as_str()),
    );
    synced
}

/// Refuses a definition the schema's checks call an error.
pub fn refuse_errors(m: &MeasureDefinition) -> Result<(), CliError> {
    match m
        .validate()
        .into_iter()
        .find(|f| f.severity == Severity::Error)
    {
        Some(f) => Err(CliError::invalid(format!("{}: {}", f.field, f.message))),
        None => Ok(()),
    }
}
