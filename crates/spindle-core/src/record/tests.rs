//! Merge tests: unit cases and the order-independence property.

use super::*;
use proptest::prelude::*;

fn stamp(at: Micros, rank: u8, tiebreak: u64) -> Stamp {
    Stamp::explicit(at, rank, tiebreak)
}

fn trace_patch(
    at: Micros,
    rank: u8,
    tiebreak: u64,
    edit: impl FnOnce(&mut TraceRecord),
) -> TraceRecord {
    let mut record = TraceRecord::new("t1");
    edit(&mut record);
    record.stamp_unstamped(stamp(at, rank, tiebreak));
    record
}

#[test]
fn update_wins_over_create_on_equal_time() {
    let create = trace_patch(10, Stamp::RANK_CREATE, 1, |r| {
        r.name = Some("created".into())
    });
    let update = trace_patch(10, Stamp::RANK_UPDATE, 2, |r| {
        r.name = Some("updated".into())
    });
    let mut a = create.clone();
    a.merge(update.clone());
    let mut b = update;
    b.merge(create);
    assert_eq!(a, b);
    assert_eq!(a.name.as_deref(), Some("updated"));
}

#[test]
fn write_once_fields_keep_the_earliest() {
    let early = trace_patch(5, 0, 1, |r| r.timestamp = Some(100));
    let late = trace_patch(9, 0, 2, |r| r.timestamp = Some(200));
    let mut merged = late;
    merged.merge(early);
    assert_eq!(merged.timestamp, Some(100));
}

#[test]
fn explicit_beats_implicit_regardless_of_time() {
    let mut implicit = TraceRecord::new("t1");
    implicit.name = Some("root-span".into());
    implicit.stamp_unstamped(stamp(50, 0, 1).implicit());
    let explicit = trace_patch(10, 0, 2, |r| r.name = Some("explicit".into()));
    let mut merged = implicit.clone();
    merged.merge(explicit.clone());
    assert_eq!(merged.name.as_deref(), Some("explicit"));
    let mut reversed = explicit;
    reversed.merge(implicit);
    assert_eq!(reversed.name.as_deref(), Some("explicit"));
}

#[test]
fn tags_union_and_metadata_merge_per_key() {
    let a = trace_patch(1, 0, 1, |r| {
        r.tags.insert("a".into());
        r.metadata.insert("k".into(), "1".into());
        r.metadata.insert("keep".into(), "x".into());
    });
    let b = trace_patch(2, 1, 2, |r| {
        r.tags.insert("b".into());
        r.metadata.insert("k".into(), "2".into());
    });
    let mut merged = a;
    merged.merge(b);
    assert_eq!(
        merged.tags.iter().cloned().collect::<Vec<_>>(),
        vec!["a", "b"]
    );
    assert_eq!(merged.metadata.get("k").map(String::as_str), Some("2"));
    assert_eq!(merged.metadata.get("keep").map(String::as_str), Some("x"));
}

#[test]
fn coalesce_merges_same_ids() {
    let mut batch = WriteBatch::default();
    batch
        .traces
        .push(trace_patch(1, 0, 1, |r| r.name = Some("a".into())));
    batch
        .traces
        .push(trace_patch(2, 1, 2, |r| r.user_id = Some("u".into())));
    batch.coalesce();
    assert_eq!(batch.traces.len(), 1);
    assert_eq!(batch.traces[0].name.as_deref(), Some("a"));
    assert_eq!(batch.traces[0].user_id.as_deref(), Some("u"));
}

fn arbitrary_patch() -> impl Strategy<Value = TraceRecord> {
    (
        0i64..20,
        0u8..2,
        any::<u64>(),
        proptest::option::of("[a-c]{1,2}"),
        proptest::option::of("[u-w]"),
        proptest::option::of(0i64..1000),
        proptest::collection::btree_set("[x-z]", 0..3),
        proptest::collection::btree_map("[k-m]", "[0-9]", 0..3),
    )
        .prop_map(|(at, rank, tiebreak, name, user, ts, tags, metadata)| {
            let mut record = TraceRecord::new("t1");
            record.name = name;
            record.user_id = user;
            record.timestamp = ts;
            record.tags = tags;
            record.metadata = metadata;
            record.stamp_unstamped(stamp(at, rank, tiebreak));
            record
        })
}

proptest! {
    #[test]
    fn merge_is_order_independent(patches in proptest::collection::vec(arbitrary_patch(), 1..8), seed in any::<u64>()) {
        let mut forward = TraceRecord::new("t1");
        for patch in patches.clone() {
            forward.merge(patch);
        }
        // A deterministic shuffle from the seed.
        let mut shuffled = patches;
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let j = (state % (i as u64 + 1)) as usize;
            shuffled.swap(i, j);
        }
        // And split into two halves merged separately, then together.
        let middle = shuffled.len() / 2;
        let mut left = TraceRecord::new("t1");
        for patch in shuffled[..middle].iter().cloned() {
            left.merge(patch);
        }
        let mut right = TraceRecord::new("t1");
        for patch in shuffled[middle..].iter().cloned() {
            right.merge(patch);
        }
        right.merge(left);
        prop_assert_eq!(forward, right);
    }
}
