//! Datasets: named sets of test items (input, expected output), and runs that link each item
//! to the trace an application produced for it. The requests the public API accepts (`New…`,
//! validated) and the stored records. JSON values are kept as JSON text.

use crate::time::Micros;

/// Whether an item takes part in new runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemStatus {
    Active,
    Archived,
}

impl ItemStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Active => "ACTIVE",
            ItemStatus::Archived => "ARCHIVED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ACTIVE" => Some(ItemStatus::Active),
            "ARCHIVED" => Some(ItemStatus::Archived),
            _ => None,
        }
    }
}

/// The fields of a dataset item media can be in, as the media API names them.
pub const ITEM_MEDIA_FIELDS: [&str; 3] = ["input", "expectedOutput", "metadata"];

/// A dataset to create, or to update when one of the name exists (what is `None` is kept).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewDataset {
    pub name: String,
    pub description: Option<String>,
    /// JSON text.
    pub metadata: Option<String>,
    /// JSON text of a JSON Schema for item inputs.
    pub input_schema: Option<String>,
    /// JSON text of a JSON Schema for item expected outputs.
    pub expected_output_schema: Option<String>,
}

/// A stored dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: Option<String>,
    pub metadata: Option<String>,
    pub input_schema: Option<String>,
    pub expected_output_schema: Option<String>,
    pub created_at: Micros,
    pub updated_at: Micros,
}

/// An item to create in the dataset named `dataset_name`, or to update when `id` names a
/// stored item of that dataset (what is `None` is kept; a new item is active by default).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewDatasetItem {
    pub dataset_name: String,
    pub id: Option<String>,
    /// JSON text.
    pub input: Option<String>,
    /// JSON text.
    pub expected_output: Option<String>,
    /// JSON text.
    pub metadata: Option<String>,
    pub source_trace_id: Option<String>,
    pub source_observation_id: Option<String>,
    pub status: Option<ItemStatus>,
}

/// A stored dataset item.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetItem {
    pub id: String,
    pub project_id: String,
    pub dataset_id: String,
    pub dataset_name: String,
    pub status: ItemStatus,
    pub input: Option<String>,
    pub expected_output: Option<String>,
    pub metadata: Option<String>,
    pub source_trace_id: Option<String>,
    pub source_observation_id: Option<String>,
    pub created_at: Micros,
    pub updated_at: Micros,
}

/// A link of a trace (and optionally one of its observations) to a dataset item under a run
/// name; the run is created on first use, and its description and metadata are updated when
/// given.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewRunItem {
    pub run_name: String,
    pub run_description: Option<String>,
    /// JSON text.
    pub metadata: Option<String>,
    pub dataset_item_id: String,
    /// Absent: the trace of `observation_id`, looked up in the store.
    pub trace_id: Option<String>,
    pub observation_id: Option<String>,
    /// Absent: now.
    pub created_at: Option<Micros>,
    /// Run on the items as they were at this time (microseconds); absent: as they are now.
    pub dataset_version: Option<Micros>,
}

/// A stored run of a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetRun {
    pub id: String,
    pub project_id: String,
    pub dataset_id: String,
    pub dataset_name: String,
    pub name: String,
    pub description: Option<String>,
    pub metadata: Option<String>,
    pub created_at: Micros,
    pub updated_at: Micros,
}

/// A stored run item: one item's trace in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetRunItem {
    pub id: String,
    pub project_id: String,
    pub run_id: String,
    pub run_name: String,
    pub dataset_item_id: String,
    pub trace_id: String,
    pub observation_id: Option<String>,
    /// The version of the item the run ran on: the time from which the item's state it read
    /// was valid (`None` for run items stored before versions were recorded).
    pub dataset_version: Option<Micros>,
    pub created_at: Micros,
    pub updated_at: Micros,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_unknown_ones_are_refused() {
        for status in [ItemStatus::Active, ItemStatus::Archived] {
            assert_eq!(ItemStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(ItemStatus::parse("active"), None);
    }
}
