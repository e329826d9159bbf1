//! Timestamps: microseconds since the Unix epoch, parsed from and formatted as ISO-8601.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Microseconds since 1970-01-01T00:00:00Z.
pub type Micros = i64;

/// Now, in microseconds since the epoch (0 for a clock before 1970).
pub fn now_micros() -> Micros {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| Micros::try_from(since.as_micros()).unwrap_or(Micros::MAX))
        .unwrap_or(0)
}

/// Parses an ISO-8601 / RFC 3339 timestamp. A timestamp without an offset is taken as UTC.
/// Returns `None` when the text is not a timestamp.
pub fn parse_iso(text: &str) -> Option<Micros> {
    let text = text.trim();
    if let Ok(parsed) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(to_micros(parsed));
    }
    // Lenient forms: a space instead of `T`, a lower-case `z`, or no offset at all.
    let normalized = text.replacen(' ', "T", 1).replace('z', "Z");
    if let Ok(parsed) = OffsetDateTime::parse(&normalized, &Rfc3339) {
        return Some(to_micros(parsed));
    }
    let with_offset = format!("{normalized}Z");
    if let Ok(parsed) = OffsetDateTime::parse(&with_offset, &Rfc3339) {
        return Some(to_micros(parsed));
    }
    let date_only = format!("{normalized}T00:00:00Z");
    OffsetDateTime::parse(&date_only, &Rfc3339)
        .ok()
        .map(to_micros)
        .or_else(|| {
            let format =
                time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
            PrimitiveDateTime::parse(&normalized, &format)
                .ok()
                .map(|dt| to_micros(dt.assume_offset(UtcOffset::UTC)))
        })
}

/// Parses a timestamp that must carry an explicit offset (`Z` or `±hh:mm`).
pub fn parse_iso_strict(text: &str) -> Option<Micros> {
    OffsetDateTime::parse(text.trim(), &Rfc3339)
        .ok()
        .map(to_micros)
}

fn to_micros(datetime: OffsetDateTime) -> Micros {
    (datetime.unix_timestamp_nanos() / 1_000) as Micros
}

/// Formats as ISO-8601 in UTC with millisecond precision: `2024-01-02T03:04:05.678Z`.
pub fn format_iso(micros: Micros) -> String {
    let nanos = i128::from(micros.div_euclid(1_000)) * 1_000_000;
    let datetime =
        OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    datetime
        .format(&format)
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".to_owned())
}

/// Converts OTLP nanoseconds to microseconds, saturating.
pub fn nanos_to_micros(nanos: u64) -> Micros {
    (nanos / 1_000).min(i64::MAX as u64) as Micros
}

/// The earliest and latest timestamps Spindle accepts (years 1000 to 9999).
pub const MIN_MICROS: Micros = -30_610_224_000_000_000;
pub const MAX_MICROS: Micros = 253_402_300_799_999_999;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_sdk_forms() {
        let cases = [
            ("2026-11-21T04:48:18.451113Z", Some(1_795_236_498_451_113)),
            ("2026-11-21T04:49:02.072Z", Some(1_795_236_542_072_000)),
            ("2026-11-21T04:49:02.072+00:00", Some(1_795_236_542_072_000)),
            ("2026-11-21T06:49:02.072+02:00", Some(1_795_236_542_072_000)),
            ("2026-11-21T04:49:02.072", Some(1_795_236_542_072_000)),
            ("2026-11-21T04:49:02", Some(1_795_236_542_000_000)),
            ("2026-11-21", Some(1_795_219_200_000_000)),
            ("yesterday", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_iso(text), expected, "{text}");
        }
    }

    #[test]
    fn strict_requires_offset() {
        assert!(parse_iso_strict("2026-11-21T04:49:02.072").is_none());
        assert!(parse_iso_strict("2026-11-21T04:49:02.072Z").is_some());
    }

    #[test]
    fn formats_with_milliseconds() {
        assert_eq!(
            format_iso(1_795_236_498_451_113),
            "2026-11-21T04:48:18.451Z"
        );
        assert_eq!(format_iso(0), "1970-01-01T00:00:00.000Z");
    }
}
