//! Reading a write's body: one JSON object, a JSON array, or NDJSON, into records with their place.
//! Compiled only with `ssr`.

use serde_json::Value;

use crate::error::AppError;
use crate::model::record::Record;

/// Where a record was in the request, for the per-record answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The body was a single JSON object.
    Single,
    /// 0-based index in a JSON array.
    Index(u32),
    /// 1-based line of an NDJSON body.
    Line(u32),
}

/// One record of the body, or why it could not be read.
#[derive(Debug, Clone)]
pub struct Item {
    pub place: Place,
    pub record: Result<Record, String>,
}

impl Item {
    /// Records built on the server (from another wire format), numbered in order.
    pub fn numbered(records: Vec<Record>) -> Vec<Item> {
        records
            .into_iter()
            .zip(0..)
            .map(|(record, i)| Item {
                place: Place::Index(i),
                record: Ok(record),
            })
            .collect()
    }
}

fn too_many(most: usize) -> AppError {
    AppError::PayloadTooLarge(format!(
        "the body holds more than {most} records, the most one request takes; split it"
    ))
}

/// Reads an NDJSON body: one record per line (at most `most`); blank lines are skipped.
pub fn ndjson(body: &[u8], most: usize) -> Result<Vec<Item>, AppError> {
    let mut items = Vec::new();
    for (number, line) in body.split(|b| *b == b'\n').enumerate() {
        let line_number = u32::try_from(number + 1).unwrap_or(u32::MAX);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if items.len() == most {
            return Err(too_many(most));
        }
        let record = std::str::from_utf8(line)
            .map_err(|_| "the line is not valid UTF-8".to_string())
            .and_then(|text| {
                serde_json::from_str::<Record>(text).map_err(|e| format!("malformed record: {e}"))
            });
        items.push(Item {
            place: Place::Line(line_number),
            record,
        });
    }
    if items.is_empty() {
        return Err(AppError::BadRequest("the body holds no records".into()));
    }
    Ok(items)
}

/// Reads a JSON body: one record, or an array of at most `most` records.
pub fn json(body: &[u8], most: usize) -> Result<Vec<Item>, AppError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| AppError::BadRequest(format!("the body is not valid JSON: {e}")))?;
    let read = |value: Value| {
        serde_json::from_value::<Record>(value).map_err(|e| format!("malformed record: {e}"))
    };
    match value {
        Value::Array(values) if values.is_empty() => {
            Err(AppError::BadRequest("the body holds no records".into()))
        }
        Value::Array(values) if values.len() > most => Err(too_many(most)),
        Value::Array(values) => Ok(values
            .into_iter()
            .enumerate()
            .map(|(index, value)| Item {
                place: Place::Index(u32::try_from(index).unwrap_or(u32::MAX)),
                record: read(value),
            })
            .collect()),
        Value::Object(_) => Ok(vec![Item {
            place: Place::Single,
            record: read(value),
        }]),
        _ => Err(AppError::BadRequest(
            "the body must be a JSON object (one record) or an array of records".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndjson_numbers_lines_and_skips_blank_ones() {
        let body = b"{\"type\":\"edge\",\"from\":{\"source\":\"a\",\"id\":\"1\"},\"to\":{\"source\":\"a\",\"id\":\"2\"}}\n\n{not json}\r\n";
        let items = ndjson(body, 10).unwrap();
        assert_eq!(ndjson(body, 1).unwrap_err().status(), 413);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].place, Place::Line(1));
        assert!(items[0].record.is_ok());
        assert_eq!(items[1].place, Place::Line(3));
        assert!(
            items[1]
                .record
                .as_ref()
                .unwrap_err()
                .starts_with("malformed record")
        );
    }

    #[test]
    fn json_takes_an_object_or_an_array() {
        let one = json(
            br#"{"type":"edge","from":{"source":"a","id":"1"},"to":{"source":"a","id":"2"}}"#,
            1,
        )
        .unwrap();
        assert_eq!(one[0].place, Place::Single);
        let many = json(br#"[{"type":"nope"}, {"type":"edge","from":{"source":"a","id":"1"},"to":{"source":"a","id":"2"}}]"#, 2)
            .unwrap();
        assert_eq!(many[1].place, Place::Index(1));
        assert!(many[0].record.is_err());
        assert_eq!(json(b"[{}, {}, {}]", 2).unwrap_err().status(), 413);
        assert!(json(b"42", 1).is_err());
        assert!(json(b"[]", 1).is_err());
        assert!(json(b"{", 1).is_err());
        assert!(ndjson(b"\n \n", 1).is_err());
    }
}
