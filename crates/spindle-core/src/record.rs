//! Traces, observations and scores as stored: plain fields plus the stamps that merge them.
//!
//! A record is also a patch: a create or update event becomes a record with only the fields
//! it sets, and [`TraceRecord::merge`] (and friends) folds patches into the stored record.

use crate::merge::{merge_field, merge_map, MergeRule, Stamp, Stamps};
use crate::model::{Level, ObservationType, ScoreDataType, ScoreSource};
use crate::review::QueueItemCompletion;
use crate::time::Micros;
use std::collections::{BTreeMap, BTreeSet};

macro_rules! record {
    (
        $(#[$meta:meta])*
        $name:ident {
            first { $($first:ident : $first_ty:ty),* $(,)? }
            lww { $($lww:ident : $lww_ty:ty),* $(,)? }
            sets { $($set:ident),* $(,)? }
            $(computed { $($computed:ident : $computed_ty:ty),* $(,)? })?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name {
            /// The entity id, unique within a project.
            pub id: String,
            $(pub $first: Option<$first_ty>,)*
            $(pub $lww: Option<$lww_ty>,)*
            $(pub $set: BTreeSet<String>,)*
            $($(
                /// Computed by the store from the merged fields: never merged or stamped.
                pub $computed: $computed_ty,
            )*)?
            /// Metadata, one JSON-or-plain string per key (parsed on read).
            pub metadata: BTreeMap<String, String>,
            /// The stamp of every field that has a value.
            pub stamps: Stamps,
        }

        impl $name {
            /// A record with only its id set.
            pub fn new(id: impl Into<String>) -> Self {
                $name { id: id.into(), ..Default::default() }
            }

            /// Folds `other` (a patch or another stored copy of the same entity) into `self`.
            pub fn merge(&mut self, other: $name) {
                debug_assert_eq!(self.id, other.id);
                let $name { id: _, $($first,)* $($lww,)* $($set,)* $($($computed: _,)*)? metadata, stamps } = other;
                $(merge_field(MergeRule::First, &mut self.$first, &mut self.stamps, $first, &stamps, stringify!($first));)*
                $(merge_field(MergeRule::LastWriterWins, &mut self.$lww, &mut self.stamps, $lww, &stamps, stringify!($lww));)*
                $(self.$set.extend($set);)*
                merge_map(&mut self.metadata, &mut self.stamps, metadata, &stamps, "metadata");
            }

            /// Gives every present field that has no stamp yet the stamp `stamp`.
            pub fn stamp_unstamped(&mut self, stamp: Stamp) {
                $(if self.$first.is_some() {
                    self.stamps.entry(stringify!($first).to_owned()).or_insert(stamp);
                })*
                $(if self.$lww.is_some() {
                    self.stamps.entry(stringify!($lww).to_owned()).or_insert(stamp);
                })*
                for key in self.metadata.keys() {
                    self.stamps.entry(format!("metadata.{key}")).or_insert(stamp);
                }
            }

            /// Whether the record sets no field at all (a patch that would change nothing).
            pub fn is_empty_patch(&self) -> bool {
                true $(&& self.$first.is_none())* $(&& self.$lww.is_none())*
                    $(&& self.$set.is_empty())* && self.metadata.is_empty()
            }
        }
    };
}

record!(
    /// A trace: one execution of the application, the root of a tree of observations.
    TraceRecord {
        first {
            timestamp: Micros,
            environment: String,
        }
        lww {
            name: String,
            user_id: String,
            session_id: String,
            release: String,
            version: String,
            public: bool,
            bookmarked: bool,
            input: String,
            output: String,
            external_id: String,
        }
        sets { tags }
    }
);

record!(
    /// An observation: one step of a trace (span, generation, event, tool call, ...).
    ObservationRecord {
        first {
            trace_id: String,
            start_time: Micros,
            environment: String,
        }
        lww {
            observation_type: ObservationType,
            parent_observation_id: String,
            name: String,
            end_time: Micros,
            completion_start_time: Micros,
            level: Level,
            status_message: String,
            version: String,
            model: String,
            model_parameters: String,
            usage_details: BTreeMap<String, i64>,
            cost_details: BTreeMap<String, f64>,
            prompt_name: String,
            prompt_version: i64,
            input: String,
            output: String,
        }
        sets {}
        computed { derived: DerivedCost }
    }
);

/// What the store works out for an observation from its merged model, usage and I/O: usage
/// counted by a tokenizer when none was reported, and cost from the matched model's prices
/// when none was given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DerivedCost {
    /// Usage counted by a tokenizer because the observation reported none; empty otherwise.
    pub inferred_usage: BTreeMap<String, i64>,
    /// USD per usage type (plus `total`) from usage × price; empty when the SDK gave costs or
    /// no price applied.
    pub calculated_cost: BTreeMap<String, f64>,
    /// The id of the price entry the model matched (built-in or custom).
    pub model_id: Option<String>,
    /// The pricing tier that applied, if the entry has tiers.
    pub tier: Option<String>,
    /// USD per unit of the matched entry, by usage type.
    pub prices: BTreeMap<String, f64>,
    /// A fingerprint of the encoding, input and output `inferred_usage` was counted from: the
    /// count is reused while they stay the same.
    pub counted: Option<u64>,
}

impl DerivedCost {
    pub fn is_empty(&self) -> bool {
        self == &DerivedCost::default()
    }
}

impl ObservationRecord {
    /// The usage to report and aggregate: as given, else as counted by the tokenizer.
    pub fn effective_usage(&self) -> Option<&BTreeMap<String, i64>> {
        self.effective_usage_with(&self.derived)
    }

    /// The cost to report and aggregate: as given, else as calculated from the price table.
    pub fn effective_cost(&self) -> Option<&BTreeMap<String, f64>> {
        self.effective_cost_with(&self.derived)
    }

    /// [`Self::effective_usage`] with `derived` in place of the record's own.
    pub fn effective_usage_with<'a>(
        &'a self,
        derived: &'a DerivedCost,
    ) -> Option<&'a BTreeMap<String, i64>> {
        reported_or_derived(&self.usage_details, &derived.inferred_usage)
    }

    /// [`Self::effective_cost`] with `derived` in place of the record's own.
    pub fn effective_cost_with<'a>(
        &'a self,
        derived: &'a DerivedCost,
    ) -> Option<&'a BTreeMap<String, f64>> {
        reported_or_derived(&self.cost_details, &derived.calculated_cost)
    }
}

/// What the SDK reported when it reported something, else what was derived when anything
/// was, else the reported value as it is (none, or empty).
fn reported_or_derived<'a, V>(
    reported: &'a Option<BTreeMap<String, V>>,
    derived: &'a BTreeMap<String, V>,
) -> Option<&'a BTreeMap<String, V>> {
    match reported {
        Some(values) if !values.is_empty() => Some(values),
        _ if !derived.is_empty() => Some(derived),
        other => other.as_ref(),
    }
}

record!(
    /// A score: a numeric, categorical, boolean or text judgement on a trace, an observation,
    /// a session or a dataset run.
    ScoreRecord {
        first {
            timestamp: Micros,
            environment: String,
        }
        lww {
            name: String,
            value: f64,
            string_value: String,
            data_type: ScoreDataType,
            source: ScoreSource,
            trace_id: String,
            observation_id: String,
            session_id: String,
            dataset_run_id: String,
            comment: String,
            config_id: String,
            queue_id: String,
            author_user_id: String,
            execution_trace_id: String,
        }
        sets {}
    }
);

/// A root span's link of its trace to a dataset item under an experiment run, as SDKs that
/// tag their spans instead of calling the run items API send it. The store writes it with the
/// span: the run is created when missing, the run item once per span, and nothing at all when
/// the dataset has no such item.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentRunItem {
    pub dataset_id: String,
    pub dataset_item_id: String,
    pub run_name: String,
    pub run_description: Option<String>,
    /// JSON text.
    pub run_metadata: Option<String>,
    pub trace_id: String,
    pub observation_id: String,
    /// The dataset version the item was read at; `None` reads its current state.
    pub dataset_version: Option<Micros>,
    pub created_at: Micros,
}

impl ExperimentRunItem {
    /// The run item's id: one per span, so a span delivered again links nothing twice.
    pub fn run_item_id(&self) -> String {
        format!("{}-{}", self.trace_id, self.observation_id)
    }
}

/// Everything one request asks the store to write, already converted and validated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteBatch {
    pub traces: Vec<TraceRecord>,
    pub observations: Vec<ObservationRecord>,
    pub scores: Vec<ScoreRecord>,
    pub run_items: Vec<ExperimentRunItem>,
    /// Queue items completed with the batch's scores (review mode), in its transaction.
    pub completions: Vec<QueueItemCompletion>,
}

impl WriteBatch {
    pub fn is_empty(&self) -> bool {
        self.traces.is_empty()
            && self.observations.is_empty()
            && self.scores.is_empty()
            && self.run_items.is_empty()
            && self.completions.is_empty()
    }

    pub fn len(&self) -> usize {
        self.traces.len()
            + self.observations.len()
            + self.scores.len()
            + self.run_items.len()
            + self.completions.len()
    }

    /// Appends another batch.
    pub fn extend(&mut self, other: WriteBatch) {
        self.traces.extend(other.traces);
        self.observations.extend(other.observations);
        self.scores.extend(other.scores);
        self.run_items.extend(other.run_items);
        self.completions.extend(other.completions);
    }

    /// Merges records of the same entity within the batch, so each id appears once.
    pub fn coalesce(&mut self) {
        self.traces = coalesce_by_id(std::mem::take(&mut self.traces), TraceRecord::merge);
        self.observations = coalesce_by_id(
            std::mem::take(&mut self.observations),
            ObservationRecord::merge,
        );
        self.scores = coalesce_by_id(std::mem::take(&mut self.scores), ScoreRecord::merge);
    }
}

trait HasId {
    fn id(&self) -> &str;
}

impl HasId for TraceRecord {
    fn id(&self) -> &str {
        &self.id
    }
}
impl HasId for ObservationRecord {
    fn id(&self) -> &str {
        &self.id
    }
}
impl HasId for ScoreRecord {
    fn id(&self) -> &str {
        &self.id
    }
}

fn coalesce_by_id<R: HasId>(records: Vec<R>, merge: fn(&mut R, R)) -> Vec<R> {
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut out: Vec<R> = Vec::with_capacity(records.len());
    for record in records {
        match index.get(record.id()) {
            Some(&position) => merge(&mut out[position], record),
            None => {
                index.insert(record.id().to_owned(), out.len());
                out.push(record);
            }
        }
    }
    out
}

impl TraceRecord {
    /// A trace patch that only says the trace exists, first seen at `timestamp`.
    pub fn shallow(id: impl Into<String>, timestamp: Micros, stamp: Stamp) -> Self {
        let mut record = TraceRecord::new(id);
        record.timestamp = Some(timestamp);
        record.stamp_unstamped(stamp.implicit());
        record
    }
}

#[cfg(test)]
mod tests;
