//! Validation findings: what a tool shows people about a document that is incomplete or
//! inconsistent. Validation returns every finding, not the first.

/// How much a finding matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth a look; the document is usable.
    Info,
    /// Likely a gap the team should fill.
    Warning,
    /// The document contradicts itself or the method.
    Error,
}

/// One thing validation found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// How much it matters.
    pub severity: Severity,
    /// Where, as a path of field names, e.g. `plan.questions[q1].prediction`.
    pub field: String,
    /// What to do about it, for people.
    pub message: String,
}

impl Finding {
    /// A finding.
    pub fn new(severity: Severity, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity,
            field: field.into(),
            message: message.into(),
        }
    }
}
