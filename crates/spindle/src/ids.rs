//! Trace and observation ids: seeded ids identical to the Python and JS SDKs, random ids, and
//! joining an existing trace from a W3C `traceparent` or explicit ids.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// Returns the trace id for `seed`: the first 16 bytes of its SHA-256, as 32 lowercase hex
/// characters (the same value as Python's `create_trace_id(seed=…)` and JS `createTraceId`).
///
/// ```
/// assert_eq!(spindle::create_trace_id("external-123"), "d851607a82a0e1e55d6f5f2f78c5a3ef");
/// ```
pub fn create_trace_id(seed: &str) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    hex::encode(&digest[..16])
}

/// Returns the observation id for `seed`: the first 8 bytes of its SHA-256, as 16 hex characters.
///
/// ```
/// assert_eq!(spindle::create_observation_id("external-123").len(), 16);
/// ```
pub fn create_observation_id(seed: &str) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    hex::encode(&digest[..8])
}

/// Returns a new random trace id (32 lowercase hex characters).
///
/// ```
/// let trace_id = spindle::new_trace_id();
/// assert_eq!(trace_id.len(), 32);
/// assert_ne!(trace_id, spindle::new_trace_id());
/// ```
pub fn new_trace_id() -> String {
    hex::encode(random_trace_id())
}

pub(crate) fn random_trace_id() -> [u8; 16] {
    random_nonzero()
}

pub(crate) fn random_span_id() -> [u8; 8] {
    random_nonzero()
}

/// Random bytes, not all zero (an all-zero id is invalid in OpenTelemetry).
fn random_nonzero<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    loop {
        rand::thread_rng().fill_bytes(&mut bytes);
        if bytes != [0u8; N] {
            return bytes;
        }
    }
}

fn parse_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != N * 2
        || !text
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return None;
    }
    let mut bytes = [0u8; N];
    hex::decode_to_slice(text, &mut bytes).ok()?;
    if bytes == [0u8; N] {
        return None;
    }
    Some(bytes)
}

/// An existing trace (and optionally a parent observation) that new observations join.
///
/// Observations started with a trace context carry `langfuse.internal.as_root = true`, as in
/// Python, so the server treats them as roots of their trace.
///
/// ```
/// let context = spindle::TraceContext::new(&spindle::create_trace_id("external-123"))
///     .expect("valid trace id");
/// assert_eq!(context.trace_id(), "d851607a82a0e1e55d6f5f2f78c5a3ef");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceContext {
    pub(crate) trace_id: [u8; 16],
    pub(crate) parent_span_id: Option<[u8; 8]>,
}

impl TraceContext {
    /// Joins the trace `trace_id` (32 lowercase hex characters); `None` (and a warning) when invalid.
    ///
    /// ```
    /// assert!(spindle::TraceContext::new("not-hex").is_none());
    /// ```
    pub fn new(trace_id: &str) -> Option<Self> {
        match parse_hex::<16>(trace_id) {
            Some(trace_id) => Some(Self {
                trace_id,
                parent_span_id: None,
            }),
            None => {
                tracing::warn!(
                    trace_id,
                    "invalid trace id, expected 32 lowercase hex characters"
                );
                None
            }
        }
    }

    /// Sets the parent observation id (16 lowercase hex characters); an invalid id is ignored
    /// with a warning.
    ///
    /// ```
    /// let context = spindle::TraceContext::new(&spindle::new_trace_id())
    ///     .unwrap()
    ///     .with_parent_span_id("ff8262a55687ab00");
    /// assert_eq!(context.parent_span_id().as_deref(), Some("ff8262a55687ab00"));
    /// ```
    pub fn with_parent_span_id(mut self, parent_span_id: &str) -> Self {
        match parse_hex::<8>(parent_span_id) {
            Some(parent) => self.parent_span_id = Some(parent),
            None => tracing::warn!(
                parent_span_id,
                "invalid observation id, expected 16 lowercase hex characters"
            ),
        }
        self
    }

    /// Parses a W3C `traceparent` header (`00-<trace id>-<parent id>-<flags>`).
    ///
    /// ```
    /// let context = spindle::TraceContext::from_traceparent(
    ///     "00-d851607a82a0e1e55d6f5f2f78c5a3ef-ff8262a55687ab00-01",
    /// )
    /// .unwrap();
    /// assert_eq!(context.parent_span_id().as_deref(), Some("ff8262a55687ab00"));
    /// ```
    pub fn from_traceparent(header: &str) -> Option<Self> {
        let mut parts = header.trim().split('-');
        let version = parts.next()?;
        let trace_id = parts.next()?;
        let parent_id = parts.next()?;
        let flags = parts.next()?;
        if version.len() != 2 || version == "ff" || flags.len() != 2 {
            return None;
        }
        Some(Self {
            trace_id: parse_hex::<16>(trace_id)?,
            parent_span_id: Some(parse_hex::<8>(parent_id)?),
        })
    }

    /// The trace id, as 32 hex characters.
    ///
    /// ```
    /// let id = spindle::new_trace_id();
    /// assert_eq!(spindle::TraceContext::new(&id).unwrap().trace_id(), id);
    /// ```
    pub fn trace_id(&self) -> String {
        hex::encode(self.trace_id)
    }

    /// The parent observation id, if any, as 16 hex characters.
    ///
    /// ```
    /// let context = spindle::TraceContext::new(&spindle::new_trace_id()).unwrap();
    /// assert_eq!(context.parent_span_id(), None);
    /// ```
    pub fn parent_span_id(&self) -> Option<String> {
        self.parent_span_id.map(hex::encode)
    }
}

/// Formats a W3C `traceparent` header value for a trace and span id.
pub(crate) fn format_traceparent(trace_id: &[u8; 16], span_id: &[u8; 8]) -> String {
    format!("00-{}-{}-01", hex::encode(trace_id), hex::encode(span_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_ids_match_python() {
        assert_eq!(
            create_trace_id("external-123"),
            "d851607a82a0e1e55d6f5f2f78c5a3ef"
        );
        assert_eq!(create_observation_id("external-123"), "d851607a82a0e1e5");
    }

    #[test]
    fn traceparent_round_trip() {
        let header = format_traceparent(&[1; 16], &[2; 8]);
        let context = TraceContext::from_traceparent(&header).unwrap();
        assert_eq!(context.trace_id, [1; 16]);
        assert_eq!(context.parent_span_id, Some([2; 8]));
        assert!(TraceContext::from_traceparent("00-zz-11-01").is_none());
        assert!(TraceContext::from_traceparent(
            "00-00000000000000000000000000000000-0000000000000001-01"
        )
        .is_none());
    }
}
