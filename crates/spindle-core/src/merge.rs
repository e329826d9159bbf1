//! Order-independent merging: every field value carries a [`Stamp`] saying when and how it was
//! written, and merging keeps, per field, the value whose stamp wins.
//!
//! The merge is commutative, associative and idempotent, so the stored result never depends on
//! the order in which creates and updates arrive, nor on how they are split across requests.

use crate::time::Micros;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// When and how a value was written. Stamps compare field by field in declaration order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Stamp {
    /// Explicit values (`langfuse.trace.name`, a `trace-create` body) outrank values derived
    /// implicitly (a trace name taken from its root span).
    pub priority: u8,
    /// The event time: the envelope timestamp of a batch event, or a span's time for OTLP.
    pub at: Micros,
    /// On equal times a create (0) is applied before an update (1), so the update wins.
    pub rank: u8,
    /// A deterministic hash of the event, to order distinct events with equal times.
    pub tiebreak: u64,
}

impl Stamp {
    pub const PRIORITY_IMPLICIT: u8 = 0;
    pub const PRIORITY_EXPLICIT: u8 = 1;
    pub const RANK_CREATE: u8 = 0;
    pub const RANK_UPDATE: u8 = 1;

    /// An explicit create at `at`.
    pub fn explicit(at: Micros, rank: u8, tiebreak: u64) -> Self {
        Stamp {
            priority: Self::PRIORITY_EXPLICIT,
            at,
            rank,
            tiebreak,
        }
    }

    /// The same stamp with implicit priority.
    pub fn implicit(self) -> Self {
        Stamp {
            priority: Self::PRIORITY_IMPLICIT,
            ..self
        }
    }

    /// Ordering for write-once fields: the higher priority wins, then the earliest event.
    fn first_key(&self) -> (std::cmp::Reverse<u8>, Micros, u8, u64) {
        (
            std::cmp::Reverse(self.priority),
            self.at,
            self.rank,
            self.tiebreak,
        )
    }
}

/// A 64-bit FNV-1a hash, used to derive tiebreaks from event ids.
pub fn tiebreak_of(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The stamps of one record, keyed by field name (`name`, `metadata.<key>`, ...).
pub type Stamps = BTreeMap<String, Stamp>;

/// How an incoming field value competes with the stored one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeRule {
    /// The value with the greater stamp wins.
    LastWriterWins,
    /// Write once: the value of the highest-priority, earliest event is kept.
    First,
}

impl MergeRule {
    fn wins(self, incoming: &Stamp, existing: &Stamp) -> bool {
        match self {
            MergeRule::LastWriterWins => incoming > existing,
            MergeRule::First => incoming.first_key() < existing.first_key(),
        }
    }
}

/// Merges one field: `incoming` (with its stamp) replaces `current` when `current` has no
/// stamped value or when `rule` says the incoming stamp wins over the stored one.
pub fn merge_field<T>(
    rule: MergeRule,
    current: &mut Option<T>,
    stamps: &mut Stamps,
    incoming: Option<T>,
    incoming_stamps: &Stamps,
    key: &str,
) {
    let Some(value) = incoming else { return };
    let Some(incoming_stamp) = incoming_stamps.get(key).copied() else {
        debug_assert!(false, "field {key} has a value but no stamp");
        return;
    };
    let wins = match (current.as_ref(), stamps.get(key)) {
        (Some(_), Some(existing)) => rule.wins(&incoming_stamp, existing),
        _ => true,
    };
    if wins {
        *current = Some(value);
        stamps.insert(key.to_owned(), incoming_stamp);
    }
}

/// Merges a map key by key, last writer wins per key (`metadata`).
pub fn merge_map(
    current: &mut BTreeMap<String, String>,
    stamps: &mut Stamps,
    incoming: BTreeMap<String, String>,
    incoming_stamps: &Stamps,
    prefix: &str,
) {
    for (key, value) in incoming {
        let stamp_key = format!("{prefix}.{key}");
        let mut slot = current.remove(&key);
        merge_field(
            MergeRule::LastWriterWins,
            &mut slot,
            stamps,
            Some(value),
            incoming_stamps,
            &stamp_key,
        );
        if let Some(value) = slot {
            current.insert(key, value);
        }
    }
}
