//! Insight's tables as records: the CSV the hub exports (what `nic export` writes), one map
//! per row, cells typed as a spreadsheet would read them.

use serde_json::{Map, Number, Value};

/// The rows of a CSV table with a header line, as JSON maps: an empty cell is null, a whole
/// number an integer, another number a float, anything else the text.
pub(crate) fn from_csv(data: &[u8]) -> Result<Value, String> {
    let mut reader = csv::Reader::from_reader(data);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("the hub's table has no readable header: {e}"))?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("the hub's table has a bad row: {e}"))?;
        let row: Map<String, Value> = header
            .iter()
            .zip(record.iter())
            .map(|(name, cell)| (name.clone(), cell_value(cell)))
            .collect();
        rows.push(Value::Object(row));
    }
    Ok(Value::Array(rows))
}

fn cell_value(cell: &str) -> Value {
    if cell.is_empty() {
        return Value::Null;
    }
    if let Ok(i) = cell.parse::<i64>() {
        return Value::from(i);
    }
    match cell.parse::<f64>().ok().and_then(Number::from_f64) {
        Some(n)
            if cell
                .chars()
                .all(|c| c.is_ascii_digit() || "+-.eE".contains(c)) =>
        {
            Value::Number(n)
        }
        _ => Value::String(cell.to_owned()),
    }
}
