//! The stamps column, on both backends: the per-field merge stamps of a record as compact
//! JSON, fields that share a stamp grouped: `[[priority, at, rank, tiebreak, "field", ...], ...]`.
//! Public so that the benchmarks' raw inserts write the same bytes.

use spindle_core::merge::{Stamp, Stamps};
use spindle_core::Error;

use crate::Result;

fn corrupt(column: &str, reason: impl std::fmt::Display) -> Error {
    Error::internal(format!("stored {column} is not readable: {reason}"))
}

/// Encodes stamps.
pub fn encode_stamps(stamps: &Stamps) -> String {
    use std::io::Write as _;
    // Records usually carry a handful of distinct stamps: a linear scan groups them cheaply.
    let mut groups: Vec<(Stamp, Vec<&str>)> = Vec::new();
    for (field, stamp) in stamps {
        match groups.iter_mut().find(|(s, _)| s == stamp) {
            Some((_, fields)) => fields.push(field),
            None => groups.push((*stamp, vec![field.as_str()])),
        }
    }
    let mut out: Vec<u8> = Vec::with_capacity(16 + stamps.len() * 24);
    out.push(b'[');
    for (index, (stamp, fields)) in groups.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        let _ = write!(
            out,
            "[{},{},{},{}",
            stamp.priority, stamp.at, stamp.rank, stamp.tiebreak
        );
        for field in fields {
            out.push(b',');
            let _ = serde_json::to_writer(&mut out, field);
        }
        out.push(b']');
    }
    out.push(b']');
    String::from_utf8(out).unwrap_or_else(|_| "[]".to_owned())
}

/// Decodes [`encode_stamps`]' format.
pub fn decode_stamps(text: &str, column: &str) -> Result<Stamps> {
    let groups: Vec<Vec<serde_json::Value>> =
        serde_json::from_str(text).map_err(|e| corrupt(column, e))?;
    let mut stamps = Stamps::new();
    for group in groups {
        let malformed = || corrupt(column, "malformed stamp group");
        let (Some(priority), Some(at), Some(rank), Some(tiebreak)) = (
            group.first().and_then(|v| v.as_u64()),
            group.get(1).and_then(|v| v.as_i64()),
            group.get(2).and_then(|v| v.as_u64()),
            group.get(3).and_then(|v| v.as_u64()),
        ) else {
            return Err(malformed());
        };
        let stamp = Stamp {
            priority: u8::try_from(priority).map_err(|_| malformed())?,
            at,
            rank: u8::try_from(rank).map_err(|_| malformed())?,
            tiebreak,
        };
        for field in group.iter().skip(4) {
            let field = field.as_str().ok_or_else(malformed)?;
            stamps.insert(field.to_owned(), stamp);
        }
    }
    Ok(stamps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_round_trip_compactly() {
        let mut stamps = Stamps::new();
        let a = Stamp::explicit(1_700_000_000_000_000, 0, u64::MAX);
        let b = Stamp::explicit(-5, 1, 7).implicit();
        stamps.insert("name".into(), a);
        stamps.insert("input".into(), a);
        stamps.insert("metadata.k".into(), b);
        let text = encode_stamps(&stamps);
        assert_eq!(text.matches("1700000000000000").count(), 1, "{text}");
        assert_eq!(decode_stamps(&text, "x").ok(), Some(stamps));
        assert_eq!(decode_stamps("[]", "x").ok(), Some(Stamps::new()));
    }

    #[test]
    fn corrupt_stamps_are_errors_not_panics() {
        for text in [
            "",
            "{",
            "[[1]]",
            "[[1,2,3,4,5]]",
            "[[300,1,0,0,\"a\"]]",
            "[1]",
        ] {
            assert!(decode_stamps(text, "x").is_err(), "{text}");
        }
    }
}
