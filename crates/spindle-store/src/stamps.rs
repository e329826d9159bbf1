//! The stamps column, on both backends: the per-field merge stamps of a record in a compact
//! text form, fields that share a stamp grouped. Public so that the benchmarks' raw inserts
//! write the same bytes.
//!
//! Written as `~` then one group per distinct stamp: `|priority,at,rank,tiebreak,` (`at`
//! and `tiebreak` in base 36, `at` signed) followed by its fields, each one character of
//! [`KNOWN_FIELDS`] (the record fields every write stamps), or `.len:key` for a metadata key
//! (`len` its bytes, in decimal) or `+len:name` for any other field. Rows written before this
//! form hold JSON, `[[priority, at, rank, tiebreak, "field", ...], ...]`, and stay readable.

use rustc_hash::FxHashMap;
use spindle_core::merge::{Stamp, Stamps};
use std::sync::OnceLock;

use crate::sql::rows::corrupt;
use crate::Result;

/// The field names written as one character, the character being [`FIELD_CODES`]' at the
/// same index. Append only: stored rows name fields by their position here.
const KNOWN_FIELDS: &[&str] = &[
    // Traces, observations and scores.
    "timestamp",
    "environment",
    "name",
    "user_id",
    "session_id",
    "release",
    "version",
    "public",
    "bookmarked",
    "input",
    "output",
    "external_id",
    "trace_id",
    "start_time",
    "observation_type",
    "parent_observation_id",
    "end_time",
    "completion_start_time",
    "level",
    "status_message",
    "model",
    "model_parameters",
    "usage_details",
    "cost_details",
    "prompt_name",
    "prompt_version",
    "value",
    "string_value",
    "data_type",
    "source",
    "observation_id",
    "dataset_run_id",
    "comment",
    "config_id",
    "queue_id",
    "author_user_id",
    "execution_trace_id",
    // Metadata keys OpenTelemetry spans carry on every span.
    "metadata.resourceAttributes",
    "metadata.scope",
    "metadata.attributes",
];

/// One character per entry of [`KNOWN_FIELDS`] (a test checks there are enough).
const FIELD_CODES: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

const METADATA_PREFIX: &str = "metadata.";

fn field_code(field: &str) -> Option<u8> {
    static CODES: OnceLock<FxHashMap<&'static str, u8>> = OnceLock::new();
    CODES
        .get_or_init(|| {
            KNOWN_FIELDS
                .iter()
                .copied()
                .zip(FIELD_CODES.iter().copied())
                .collect()
        })
        .get(field)
        .copied()
}

fn known_field(code: u8) -> Option<&'static str> {
    FIELD_CODES
        .iter()
        .position(|c| *c == code)
        .and_then(|index| KNOWN_FIELDS.get(index).copied())
}

fn push_base36(out: &mut String, mut value: u64) {
    let mut digits = [0u8; 13];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b"0123456789abcdefghijklmnopqrstuvwxyz"[(value % 36) as usize];
        value /= 36;
        if value == 0 {
            break;
        }
    }
    out.extend(digits[start..].iter().map(|&d| d as char));
}

fn parse_base36(text: &str) -> Option<u64> {
    if text.is_empty() || text.starts_with('+') {
        return None;
    }
    u64::from_str_radix(text, 36).ok()
}

fn parse_signed_base36(text: &str) -> Option<i64> {
    match text.strip_prefix('-') {
        Some(magnitude) => 0i64.checked_sub_unsigned(parse_base36(magnitude)?),
        None => i64::try_from(parse_base36(text)?).ok(),
    }
}

/// Encodes stamps.
pub fn encode_stamps(stamps: &Stamps) -> String {
    use std::fmt::Write as _;
    // Records usually carry a handful of distinct stamps: a linear scan groups them cheaply.
    let mut groups: Vec<(Stamp, Vec<&str>)> = Vec::new();
    for (field, stamp) in stamps {
        match groups.iter_mut().find(|(s, _)| s == stamp) {
            Some((_, fields)) => fields.push(field),
            None => groups.push((*stamp, vec![field.as_str()])),
        }
    }
    let mut out = String::with_capacity(1 + groups.len() * 32 + stamps.len() * 2);
    out.push('~');
    for (stamp, fields) in &groups {
        let _ = write!(out, "|{},", stamp.priority);
        if stamp.at < 0 {
            out.push('-');
        }
        push_base36(&mut out, stamp.at.unsigned_abs());
        let _ = write!(out, ",{},", stamp.rank);
        push_base36(&mut out, stamp.tiebreak);
        out.push(',');
        for field in fields {
            if let Some(code) = field_code(field) {
                out.push(code as char);
            } else if let Some(key) = field.strip_prefix(METADATA_PREFIX) {
                let _ = write!(out, ".{}:{key}", key.len());
            } else {
                let _ = write!(out, "+{}:{field}", field.len());
            }
        }
    }
    out
}

/// Decodes [`encode_stamps`]' form, and the JSON of rows written before it.
pub fn decode_stamps(text: &str, column: &str) -> Result<Stamps> {
    match text.strip_prefix('~') {
        Some(compact) => decode_compact(compact).ok_or_else(|| corrupt(column, "malformed stamps")),
        None => decode_json_stamps(text, column),
    }
}

fn decode_compact(mut rest: &str) -> Option<Stamps> {
    let mut stamps = Stamps::new();
    while !rest.is_empty() {
        rest = rest.strip_prefix('|')?;
        let mut head = rest.splitn(5, ',');
        let priority = head.next()?.parse::<u8>().ok()?;
        let at = parse_signed_base36(head.next()?)?;
        let rank = head.next()?.parse::<u8>().ok()?;
        let tiebreak = parse_base36(head.next()?)?;
        rest = head.next()?;
        let stamp = Stamp {
            priority,
            at,
            rank,
            tiebreak,
        };
        while let Some(&code) = rest.as_bytes().first() {
            match code {
                b'|' => break,
                b'.' | b'+' => {
                    let (length, tail) = rest[1..].split_once(':')?;
                    let length: usize = length.parse().ok()?;
                    let name = tail.get(..length)?;
                    rest = &tail[length..];
                    let field = if code == b'.' {
                        format!("{METADATA_PREFIX}{name}")
                    } else {
                        name.to_owned()
                    };
                    stamps.insert(field, stamp);
                }
                _ => {
                    stamps.insert(known_field(code)?.to_owned(), stamp);
                    rest = &rest[1..];
                }
            }
        }
    }
    Some(stamps)
}

/// The JSON form of rows written before the compact one.
fn decode_json_stamps(text: &str, column: &str) -> Result<Stamps> {
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

    fn sample() -> Stamps {
        let mut stamps = Stamps::new();
        let a = Stamp::explicit(1_700_000_000_000_000, 0, u64::MAX);
        let b = Stamp::explicit(-5, 1, 7).implicit();
        let weakest = Stamp::explicit(i64::MIN, 0, 0).implicit();
        stamps.insert("name".into(), a);
        stamps.insert("input".into(), a);
        stamps.insert("metadata.resourceAttributes".into(), a);
        stamps.insert("metadata.k".into(), b);
        stamps.insert("metadata.|,.:ü 9".into(), b);
        stamps.insert("metadata.".into(), b);
        stamps.insert("some future field".into(), weakest);
        stamps
    }

    #[test]
    fn stamps_round_trip_compactly() {
        let stamps = sample();
        let text = encode_stamps(&stamps);
        assert!(text.len() < 110, "{text}");
        assert!(!text.contains("name") && !text.contains("input"), "{text}");
        assert_eq!(decode_stamps(&text, "x").ok(), Some(stamps));
        assert_eq!(decode_stamps("~", "x").ok(), Some(Stamps::new()));
        assert_eq!(encode_stamps(&Stamps::new()), "~");
    }

    #[test]
    fn every_known_field_has_its_own_code() {
        assert!(KNOWN_FIELDS.len() <= FIELD_CODES.len());
        let distinct: std::collections::BTreeSet<&str> = KNOWN_FIELDS.iter().copied().collect();
        assert_eq!(distinct.len(), KNOWN_FIELDS.len());
        for (index, field) in KNOWN_FIELDS.iter().enumerate() {
            assert_eq!(field_code(field), Some(FIELD_CODES[index]));
            assert_eq!(known_field(FIELD_CODES[index]), Some(*field));
        }
    }

    #[test]
    fn json_stamps_of_older_rows_stay_readable() {
        let mut stamps = Stamps::new();
        let a = Stamp::explicit(1_700_000_000_000_000, 0, u64::MAX);
        stamps.insert("name".into(), a);
        stamps.insert("metadata.k".into(), Stamp::explicit(-5, 1, 7).implicit());
        let text =
            r#"[[1,1700000000000000,0,18446744073709551615,"name"],[0,-5,1,7,"metadata.k"]]"#;
        assert_eq!(decode_stamps(text, "x").ok(), Some(stamps));
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
            "~|",
            "~|1,2,3",
            "~|1,2,0,3,~",
            "~|1,2,0,3,.5:ab",
            "~|1,2,0,3,.1:ü",
            "~|1,2,0,3,.x:a",
            "~|300,2,0,3,A",
            "~|1,+2,0,3,A",
            "~|1,2,0,zzzzzzzzzzzzzzz,A",
            "~|1,-zzzzzzzzzzzzz,0,3,A",
            "~A",
        ] {
            assert!(decode_stamps(text, "x").is_err(), "{text}");
        }
    }
}
