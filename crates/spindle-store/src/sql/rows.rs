//! One codec per stored entity (traces, observations, scores), used by both backends and
//! the copy tool: the columns a SELECT reads and how such a row decodes into a record (by
//! column name, through [`RowAccess`]), and the columns a write sets with their values,
//! encoded once per record.
//!
//! Rows are plain column values: JSON text for maps, sets and stamps (JSONB on PostgreSQL
//! for tags and metadata), text for enums. A row read back converts to exactly the record
//! that was written, stamps included, so merging a stored record with a patch gives the
//! same result as merging the patches in memory.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use spindle_core::merge::Stamp;
use spindle_core::record::DerivedCost;
use spindle_core::time::Micros;
use spindle_core::{
    Error, Level, ObservationRecord, ObservationType, ScoreDataType, ScoreRecord, ScoreSource,
    TraceRecord,
};

use super::{Dialect, RowAccess};
pub use crate::stamps::{decode_stamps, encode_stamps};
use crate::Result;

/// The weakest possible stamp, given to any field that has a value but lost its stamp, so a
/// damaged row can still be merged (it loses against every real write).
pub const WEAKEST_STAMP: Stamp = Stamp {
    priority: Stamp::PRIORITY_IMPLICIT,
    at: i64::MIN,
    rank: 0,
    tiebreak: 0,
};

/// A stored record with its creation and update times.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored<R> {
    pub record: R,
    pub created_at: Micros,
    pub updated_at: Micros,
}

// --- reading ---

/// The columns a SELECT of one table reads, for the table's usual alias: the written
/// columns that are not computed, then `created_at` and `updated_at`.
pub struct ReadColumns {
    alias: &'static str,
    columns: &'static [WriteColumn],
    /// Columns read as their empty value instead (`NULL`, or `'{}'` for a JSON object), so
    /// the same decoder reads rows without them.
    left_out: &'static [(&'static str, &'static str)],
    /// Columns SQLite reads through an expression instead (named as the column).
    sqlite_exprs: &'static [(&'static str, &'static str)],
    rendered: [OnceLock<String>; 2],
}

impl ReadColumns {
    const fn new(alias: &'static str, columns: &'static [WriteColumn]) -> Self {
        Self::reading(alias, columns, &[], &[])
    }

    /// `columns` with those of `left_out` read as their empty value, and those of
    /// `sqlite_exprs` read through an expression on SQLite.
    const fn reading(
        alias: &'static str,
        columns: &'static [WriteColumn],
        left_out: &'static [(&'static str, &'static str)],
        sqlite_exprs: &'static [(&'static str, &'static str)],
    ) -> Self {
        ReadColumns {
            alias,
            columns,
            left_out,
            sqlite_exprs,
            rendered: [OnceLock::new(), OnceLock::new()],
        }
    }

    /// The select list, `t.id, t.timestamp, …, t.tags::text AS tags, …`.
    pub fn select(&'static self, dialect: Dialect) -> &'static str {
        let slot = match dialect {
            Dialect::Sqlite => 0,
            Dialect::Postgres => 1,
        };
        self.rendered[slot].get_or_init(|| {
            let alias = self.alias;
            let cast = dialect.json_as_text();
            self.columns
                .iter()
                .filter(|column| !column.computed)
                .map(|column| {
                    let name = column.name;
                    let sqlite_expr = (dialect == Dialect::Sqlite)
                        .then(|| self.sqlite_exprs.iter().find(|(read, _)| *read == name))
                        .flatten();
                    if let Some((_, empty)) = self.left_out.iter().find(|(left, _)| *left == name) {
                        format!("{empty} AS {name}")
                    } else if let Some((_, expr)) = sqlite_expr {
                        format!("{expr} AS {name}")
                    } else if column.jsonb && !cast.is_empty() {
                        format!("{alias}.{name}{cast} AS {name}")
                    } else {
                        format!("{alias}.{name}")
                    }
                })
                .chain([format!("{alias}.created_at"), format!("{alias}.updated_at")])
                .collect::<Vec<_>>()
                .join(", ")
        })
    }

    /// How many columns the list reads.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.columns
            .iter()
            .filter(|column| !column.computed)
            .count()
            + 2
    }
}

/// The trace columns [`decode_trace`] reads, for a table aliased `t`.
pub static TRACE_COLUMNS: ReadColumns = ReadColumns::reading(
    "t",
    TRACE_TABLE,
    &[],
    &[
        ("input", "spindle_payload(t.input)"),
        ("output", "spindle_payload(t.output)"),
    ],
);

/// The observation columns [`decode_observation`] reads, for alias `o`.
pub static OBSERVATION_COLUMNS: ReadColumns = ReadColumns::reading(
    "o",
    OBSERVATION_TABLE,
    &[],
    &[
        ("metadata", OBSERVATION_METADATA_SQLITE),
        ("input", "spindle_payload(o.input)"),
        ("output", "spindle_payload(o.output)"),
    ],
);

/// The metadata keys SQLite stores once per project and distinct value in `resources`
/// instead of in every observation (see [`EncodedObservation::sharing_resource`]): what an
/// OpenTelemetry exporter repeats on every span.
pub const SHARED_METADATA_KEYS: [&str; 2] = ["resourceAttributes", "scope"];

/// An observation's whole metadata on SQLite, for alias `o`: its own keys and those of its
/// `resources` row.
pub const OBSERVATION_METADATA_SQLITE: &str = "CASE WHEN o.resource_id IS NULL THEN o.metadata \
     ELSE json_patch(o.metadata, coalesce((SELECT r.metadata FROM resources r \
     WHERE r.id = o.resource_id), '{}')) END";

/// [`OBSERVATION_COLUMNS`] without the payloads: input and output read as NULL, metadata as
/// an empty object, so a trace's tree is read without its (possibly large) payloads.
pub static OBSERVATION_TREE_COLUMNS: ReadColumns = ReadColumns::reading(
    "o",
    OBSERVATION_TABLE,
    &[("input", "NULL"), ("output", "NULL"), ("metadata", "'{}'")],
    &[],
);

/// The score columns [`decode_score`] reads, for alias `s`.
pub static SCORE_COLUMNS: ReadColumns = ReadColumns::new("s", SCORE_TABLE);

/// Reads the columns of [`TRACE_COLUMNS`].
pub fn decode_trace(row: &impl RowAccess) -> Result<Stored<TraceRecord>> {
    let mut record = TraceRecord {
        id: row.text("id")?,
        timestamp: row.opt_int("timestamp")?,
        environment: row.opt_text("environment")?,
        name: row.opt_text("name")?,
        user_id: row.opt_text("user_id")?,
        session_id: row.opt_text("session_id")?,
        release: row.opt_text("release")?,
        version: row.opt_text("version")?,
        public: row.opt_boolean("public")?,
        bookmarked: row.opt_boolean("bookmarked")?,
        external_id: row.opt_text("external_id")?,
        tags: decode_json::<BTreeSet<String>>(&row.text("tags")?, "traces.tags")?,
        metadata: decode_json(&row.text("metadata")?, "traces.metadata")?,
        input: row.opt_text("input")?,
        output: row.opt_text("output")?,
        stamps: decode_stamps(&row.text("stamps")?, "traces.stamps")?,
    };
    record.stamp_unstamped(WEAKEST_STAMP);
    stored(row, record)
}

/// Reads the columns of [`OBSERVATION_COLUMNS`] (in their order: the derived cost comes
/// after the stamps).
pub fn decode_observation(row: &impl RowAccess) -> Result<Stored<ObservationRecord>> {
    let mut record = ObservationRecord {
        id: row.text("id")?,
        trace_id: row.opt_text("trace_id")?,
        start_time: row.opt_int("start_time")?,
        end_time: row.opt_int("end_time")?,
        environment: row.opt_text("environment")?,
        observation_type: row.opt_parsed("type", ObservationType::parse)?,
        parent_observation_id: row.opt_text("parent_observation_id")?,
        name: row.opt_text("name")?,
        completion_start_time: row.opt_int("completion_start_time")?,
        level: row.opt_parsed("level", Level::parse)?,
        version: row.opt_text("version")?,
        model: row.opt_text("model")?,
        prompt_name: row.opt_text("prompt_name")?,
        prompt_version: row.opt_int("prompt_version")?,
        status_message: row.opt_text("status_message")?,
        model_parameters: row.opt_text("model_parameters")?,
        usage_details: decode_optional(row.opt_text("usage_details")?, "usage_details")?,
        cost_details: decode_optional(row.opt_text("cost_details")?, "cost_details")?,
        metadata: decode_json(&row.text("metadata")?, "observations.metadata")?,
        input: row.opt_text("input")?,
        output: row.opt_text("output")?,
        stamps: decode_stamps(&row.text("stamps")?, "observations.stamps")?,
        derived: DerivedCost::default(),
    };
    record.derived = crate::derived::decode(row.opt_text("derived")?.as_deref())?;
    record.stamp_unstamped(WEAKEST_STAMP);
    stored(row, record)
}

/// Reads the columns of [`SCORE_COLUMNS`].
pub fn decode_score(row: &impl RowAccess) -> Result<Stored<ScoreRecord>> {
    let mut record = ScoreRecord {
        id: row.text("id")?,
        timestamp: row.opt_int("timestamp")?,
        environment: row.opt_text("environment")?,
        name: row.opt_text("name")?,
        value: row.opt_float("value")?,
        string_value: row.opt_text("string_value")?,
        data_type: row.opt_parsed("data_type", ScoreDataType::parse)?,
        source: row.opt_parsed("source", ScoreSource::parse)?,
        trace_id: row.opt_text("trace_id")?,
        observation_id: row.opt_text("observation_id")?,
        session_id: row.opt_text("session_id")?,
        dataset_run_id: row.opt_text("dataset_run_id")?,
        config_id: row.opt_text("config_id")?,
        queue_id: row.opt_text("queue_id")?,
        author_user_id: row.opt_text("author_user_id")?,
        execution_trace_id: row.opt_text("execution_trace_id")?,
        comment: row.opt_text("comment")?,
        metadata: decode_json(&row.text("metadata")?, "scores.metadata")?,
        stamps: decode_stamps(&row.text("stamps")?, "scores.stamps")?,
    };
    record.stamp_unstamped(WEAKEST_STAMP);
    stored(row, record)
}

/// `record` read from `row`, with the row's creation and update times.
fn stored<R>(row: &impl RowAccess, record: R) -> Result<Stored<R>> {
    Ok(Stored {
        record,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

/// The select of media records.
pub const MEDIA_SELECT: &str = "SELECT project_id, id, sha256_hash, content_type, \
     content_length, trace_id, observation_id, field, uploaded_at, upload_http_status, \
     created_at FROM media";

/// The columns of `media`, in the order [`insert_media`] binds them.
const MEDIA_COLUMNS: &str = "project_id, id, sha256_hash, content_type, content_length, \
     trace_id, observation_id, field, uploaded_at, upload_http_status, created_at";

/// The insert of a media record that leaves a stored one (same project and id) as it is.
pub fn insert_media(dialect: Dialect, media: &crate::MediaRecord) -> super::Sql {
    let values = [
        super::Param::from(&media.project_id),
        super::Param::from(&media.id),
        super::Param::from(&media.sha256_hash),
        super::Param::from(&media.content_type),
        super::Param::from(media.content_length),
        super::Param::from(media.trace_id.clone()),
        super::Param::from(media.observation_id.clone()),
        super::Param::from(media.field.clone()),
        super::Param::from(media.uploaded_at),
        super::Param::from(media.upload_http_status),
        super::Param::from(media.created_at),
    ];
    let mut sql = crate::statements::insert(dialect, "media", MEDIA_COLUMNS, values);
    sql.push(" ON CONFLICT DO NOTHING");
    sql
}

/// The media record with this id ([`MEDIA_SELECT`]).
pub fn media_by_id(dialect: Dialect, project_id: &str, media_id: &str) -> super::Sql {
    let mut sql = super::Sql::new(dialect, &format!("{MEDIA_SELECT} WHERE project_id = "));
    sql.bind(project_id).push(" AND id = ").bind(media_id);
    sql
}

/// Marks a media record uploaded at `at` with the upload's HTTP status.
pub fn mark_media_uploaded(
    dialect: Dialect,
    project_id: &str,
    media_id: &str,
    at: i64,
    http_status: Option<i64>,
) -> super::Sql {
    let mut sql = super::Sql::new(dialect, "UPDATE media SET uploaded_at = ");
    sql.bind(at)
        .push(", upload_http_status = ")
        .bind(http_status)
        .push(" WHERE project_id = ")
        .bind(project_id)
        .push(" AND id = ")
        .bind(media_id);
    sql
}

/// Stores the bytes of a media record, replacing those stored.
pub fn put_media_bytes(
    dialect: Dialect,
    project_id: &str,
    media_id: &str,
    bytes: Vec<u8>,
) -> super::Sql {
    let mut sql = super::Sql::new(
        dialect,
        "INSERT INTO media_blobs (project_id, id, bytes) VALUES (",
    );
    sql.bind(project_id)
        .push(", ")
        .bind(media_id)
        .push(", ")
        .bind(bytes)
        .push(") ON CONFLICT (project_id, id) DO UPDATE SET bytes = excluded.bytes");
    sql
}

/// The stored bytes of a media record (one column, `bytes`).
pub fn media_bytes(dialect: Dialect, project_id: &str, media_id: &str) -> super::Sql {
    let mut sql = super::Sql::new(dialect, "SELECT bytes FROM media_blobs WHERE project_id = ");
    sql.bind(project_id).push(" AND id = ").bind(media_id);
    sql
}

/// A row of [`MEDIA_SELECT`].
pub fn decode_media(row: &impl RowAccess) -> Result<crate::MediaRecord> {
    Ok(crate::MediaRecord {
        project_id: row.text("project_id")?,
        id: row.text("id")?,
        sha256_hash: row.text("sha256_hash")?,
        content_type: row.text("content_type")?,
        content_length: row.int("content_length")?,
        trace_id: row.opt_text("trace_id")?,
        observation_id: row.opt_text("observation_id")?,
        field: row.opt_text("field")?,
        uploaded_at: row.opt_int("uploaded_at")?,
        upload_http_status: row.opt_int("upload_http_status")?,
        created_at: row.int("created_at")?,
    })
}

/// The error of a stored value that does not decode.
pub(crate) fn corrupt(column: &str, reason: impl std::fmt::Display) -> Error {
    Error::internal(format!("stored {column} is not readable: {reason}"))
}

pub fn decode_json<T: serde::de::DeserializeOwned>(text: &str, column: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| corrupt(column, e))
}

fn decode_optional<T: serde::de::DeserializeOwned>(
    text: Option<String>,
    column: &str,
) -> Result<Option<T>> {
    text.map(|text| decode_json(&text, column)).transpose()
}

// --- writing ---

/// The type of a written column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    Text,
    Int,
    Float,
    Bool,
}

impl CellKind {
    /// The PostgreSQL type of an array of such values.
    pub fn pg_array_type(self) -> &'static str {
        match self {
            CellKind::Text => "text[]",
            CellKind::Int => "int8[]",
            CellKind::Float => "float8[]",
            CellKind::Bool => "bool[]",
        }
    }
}

/// A column a write sets: its name, its type, whether PostgreSQL stores it as JSONB, and
/// whether it is computed from the others for SQL to read (then no decoder reads it back).
#[derive(Debug, Clone, Copy)]
pub struct WriteColumn {
    pub name: &'static str,
    pub kind: CellKind,
    pub jsonb: bool,
    pub computed: bool,
}

impl WriteColumn {
    const fn computed(self) -> Self {
        WriteColumn {
            computed: true,
            ..self
        }
    }
}

impl WriteColumn {
    const fn of(name: &'static str, kind: CellKind) -> Self {
        WriteColumn {
            name,
            kind,
            jsonb: false,
            computed: false,
        }
    }

    const fn jsonb(self) -> Self {
        WriteColumn {
            jsonb: true,
            ..self
        }
    }
}

/// Declares the columns a write of one entity sets, `id` first, each beside its value: the
/// const list `$list` and the [`Encoded`] impl of `$encoded` come from one table, so a
/// column cannot lose its value or change its place, and a value's [`Cell`] variant is the
/// column's kind. A row is `Kind "name" => value`, the kind one of `Text`, `Json` (text,
/// JSONB on PostgreSQL), `Int`, `Float` and `Bool`, optionally followed by `computed`;
/// `$this` names the encoded record and `$r` the record in the values.
macro_rules! written_columns {
    (
        $encoded:ident, $table:literal, $list:ident, |$this:ident, $r:ident| {
            $($kind:ident $($computed:ident)? $name:literal => $value:expr,)*
        }
    ) => {
        const $list: &[WriteColumn] =
            &[$(written_columns!(@column $kind $name $($computed)?)),*];

        impl Encoded for $encoded<'_> {
            const TABLE: &'static str = $table;
            const COLUMNS: &'static [WriteColumn] = $list;

            fn cells(&self) -> impl Iterator<Item = Cell<'_>> {
                let $this = self;
                let $r = self.record;
                [$(written_columns!(@cell $kind $value)),*].into_iter()
            }
        }
    };
    (@column Json $name:literal) => { WriteColumn::of($name, CellKind::Text).jsonb() };
    (@column $kind:ident $name:literal) => { WriteColumn::of($name, CellKind::$kind) };
    (@column $kind:ident $name:literal computed) => {
        written_columns!(@column $kind $name).computed()
    };
    (@cell Json $value:expr) => { Cell::Text($value) };
    (@cell $kind:ident $value:expr) => { Cell::$kind($value) };
}

/// The value of one written column, borrowed from a record or its encoding. Binds as a
/// rusqlite parameter, and as an element of a tokio-postgres array (`Vec<Cell>`); the
/// conversions live in `crate::drivers`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
    Float(Option<f64>),
    Bool(Option<bool>),
}

/// A record encoded for writing: its table, the columns a write sets (`id` first) and
/// their values in that order.
pub trait Encoded {
    const TABLE: &'static str;
    const COLUMNS: &'static [WriteColumn];
    fn cells(&self) -> impl Iterator<Item = Cell<'_>>;
}

/// A trace about to be written: its JSON columns encoded.
pub struct EncodedTrace<'a> {
    pub record: &'a TraceRecord,
    tags: String,
    metadata: String,
    stamps: String,
}

impl<'a> EncodedTrace<'a> {
    pub fn new(record: &'a TraceRecord) -> Self {
        EncodedTrace {
            record,
            tags: encode_set(&record.tags),
            metadata: encode_string_map(&record.metadata),
            stamps: encode_stamps(&record.stamps),
        }
    }
}

// The written columns of `traces` and their values.
written_columns!(EncodedTrace, "traces", TRACE_TABLE, |e, r| {
    Text "id" => Some(&r.id),
    Int "timestamp" => r.timestamp,
    Text "environment" => r.environment.as_deref(),
    Text "name" => r.name.as_deref(),
    Text "user_id" => r.user_id.as_deref(),
    Text "session_id" => r.session_id.as_deref(),
    Text "release" => r.release.as_deref(),
    Text "version" => r.version.as_deref(),
    Bool "public" => r.public,
    Bool "bookmarked" => r.bookmarked,
    Text "external_id" => r.external_id.as_deref(),
    Json "tags" => Some(&e.tags),
    Json "metadata" => Some(&e.metadata),
    Text "input" => r.input.as_deref(),
    Text "output" => r.output.as_deref(),
    Text "stamps" => Some(&e.stamps),
});

/// An observation about to be written: its JSON columns encoded and the columns derived
/// from its usage and cost (with the given derived cost).
pub struct EncodedObservation<'a> {
    pub record: &'a ObservationRecord,
    usage_details: Option<String>,
    cost_details: Option<String>,
    metadata: String,
    shared_metadata: Option<String>,
    stamps: String,
    derived: Option<String>,
    /// `cost_details["total"]`, else the sum of its entries; `None` without costs.
    pub total_cost: Option<f64>,
    pub usage_input: Option<i64>,
    pub usage_output: Option<i64>,
    /// `usage_details["total"]`, else the sum of its entries.
    pub usage_total: Option<i64>,
}

impl<'a> EncodedObservation<'a> {
    /// The columns of `record` with `derived` as what the store works out for it.
    pub fn new(record: &'a ObservationRecord, derived: &DerivedCost) -> Self {
        Self::with_metadata(record, derived, encode_string_map(&record.metadata), None)
    }

    /// [`Self::new`] with the [`SHARED_METADATA_KEYS`] apart: the metadata column without
    /// them and [`Self::shared_metadata`] with them (SQLite's `resources`).
    pub fn sharing_resource(record: &'a ObservationRecord, derived: &DerivedCost) -> Self {
        let is_shared = |key: &String| SHARED_METADATA_KEYS.contains(&key.as_str());
        if !record.metadata.keys().any(is_shared) {
            return Self::new(record, derived);
        }
        let (shared, own): (BTreeMap<&String, &String>, BTreeMap<&String, &String>) =
            record.metadata.iter().partition(|(key, _)| is_shared(key));
        let encode = |map| serde_json::to_string(&map).unwrap_or_else(|_| "{}".to_owned());
        Self::with_metadata(record, derived, encode(own), Some(encode(shared)))
    }

    /// The metadata kept apart by [`Self::sharing_resource`], a JSON object.
    pub fn shared_metadata(&self) -> Option<&str> {
        self.shared_metadata.as_deref()
    }

    fn with_metadata(
        record: &'a ObservationRecord,
        derived: &DerivedCost,
        metadata: String,
        shared_metadata: Option<String>,
    ) -> Self {
        let usage = record.effective_usage_with(derived);
        let costs = record.effective_cost_with(derived);
        EncodedObservation {
            record,
            usage_details: record.usage_details.as_ref().map(encode_usage),
            cost_details: record.cost_details.as_ref().map(encode_costs),
            metadata,
            shared_metadata,
            stamps: encode_stamps(&record.stamps),
            derived: crate::derived::encode(derived),
            total_cost: costs.and_then(total_cost),
            usage_input: usage.and_then(|u| u.get("input").copied()),
            usage_output: usage.and_then(|u| u.get("output").copied()),
            usage_total: usage.and_then(total_usage),
        }
    }
}

// The written columns of `observations` and their values; the totals are computed for SQL's
// sums and filters.
written_columns!(EncodedObservation, "observations", OBSERVATION_TABLE, |e, r| {
    Text "id" => Some(&r.id),
    Text "trace_id" => r.trace_id.as_deref(),
    Int "start_time" => r.start_time,
    Int "end_time" => r.end_time,
    Text "environment" => r.environment.as_deref(),
    Text "type" => r.observation_type.map(ObservationType::as_str),
    Text "parent_observation_id" => r.parent_observation_id.as_deref(),
    Text "name" => r.name.as_deref(),
    Int "completion_start_time" => r.completion_start_time,
    Text "level" => r.level.map(Level::as_str),
    Text "version" => r.version.as_deref(),
    Text "model" => r.model.as_deref(),
    Text "prompt_name" => r.prompt_name.as_deref(),
    Int "prompt_version" => r.prompt_version,
    Float computed "total_cost" => e.total_cost,
    Int computed "usage_input" => e.usage_input,
    Int computed "usage_output" => e.usage_output,
    Int computed "usage_total" => e.usage_total,
    Text "status_message" => r.status_message.as_deref(),
    Text "model_parameters" => r.model_parameters.as_deref(),
    Text "usage_details" => e.usage_details.as_deref(),
    Text "cost_details" => e.cost_details.as_deref(),
    Json "metadata" => Some(&e.metadata),
    Text "input" => r.input.as_deref(),
    Text "output" => r.output.as_deref(),
    Text "stamps" => Some(&e.stamps),
    Text "derived" => e.derived.as_deref(),
});

/// A score about to be written.
pub struct EncodedScore<'a> {
    pub record: &'a ScoreRecord,
    metadata: String,
    stamps: String,
}

impl<'a> EncodedScore<'a> {
    pub fn new(record: &'a ScoreRecord) -> Self {
        EncodedScore {
            record,
            metadata: encode_string_map(&record.metadata),
            stamps: encode_stamps(&record.stamps),
        }
    }
}

// The written columns of `scores` and their values.
written_columns!(EncodedScore, "scores", SCORE_TABLE, |e, r| {
    Text "id" => Some(&r.id),
    Int "timestamp" => r.timestamp,
    Text "environment" => r.environment.as_deref(),
    Text "name" => r.name.as_deref(),
    // The value if finite (SQLite cannot store NaN).
    Float "value" => r.value.filter(|v| v.is_finite()),
    Text "string_value" => r.string_value.as_deref(),
    Text "data_type" => r.data_type.map(ScoreDataType::as_str),
    Text "source" => r.source.map(ScoreSource::as_str),
    Text "trace_id" => r.trace_id.as_deref(),
    Text "observation_id" => r.observation_id.as_deref(),
    Text "session_id" => r.session_id.as_deref(),
    Text "dataset_run_id" => r.dataset_run_id.as_deref(),
    Text "config_id" => r.config_id.as_deref(),
    Text "queue_id" => r.queue_id.as_deref(),
    Text "author_user_id" => r.author_user_id.as_deref(),
    Text "execution_trace_id" => r.execution_trace_id.as_deref(),
    Text "comment" => r.comment.as_deref(),
    Json "metadata" => Some(&e.metadata),
    Text "stamps" => Some(&e.stamps),
});

/// The total cost of one observation: the `total` entry, else the sum of the others.
pub fn total_cost(costs: &BTreeMap<String, f64>) -> Option<f64> {
    if let Some(total) = costs.get("total") {
        return total.is_finite().then_some(*total);
    }
    if costs.is_empty() {
        return None;
    }
    Some(costs.values().filter(|v| v.is_finite()).sum())
}

/// The total usage of one observation: the `total` entry, else the sum of the others.
pub fn total_usage(usage: &BTreeMap<String, i64>) -> Option<i64> {
    if let Some(total) = usage.get("total") {
        return Some(*total);
    }
    if usage.is_empty() {
        return None;
    }
    Some(usage.values().fold(0i64, |acc, v| acc.saturating_add(*v)))
}

fn encode_set(set: &BTreeSet<String>) -> String {
    serde_json::to_string(set).unwrap_or_else(|_| "[]".to_owned())
}

fn encode_string_map(map: &BTreeMap<String, String>) -> String {
    serde_json::to_string(map).unwrap_or_else(|_| "{}".to_owned())
}

fn encode_usage(usage: &BTreeMap<String, i64>) -> String {
    serde_json::to_string(usage).unwrap_or_else(|_| "{}".to_owned())
}

/// Costs as a JSON object; non-finite numbers (which JSON cannot hold) are left out.
fn encode_costs(costs: &BTreeMap<String, f64>) -> String {
    let object: serde_json::Map<String, serde_json::Value> = costs
        .iter()
        .filter_map(|(k, v)| {
            serde_json::Number::from_f64(*v).map(|n| (k.clone(), serde_json::Value::Number(n)))
        })
        .collect();
    serde_json::Value::Object(object).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_totals() {
        let costs: BTreeMap<String, f64> = [("input".to_owned(), 1.5), ("output".to_owned(), 2.0)]
            .into_iter()
            .collect();
        assert_eq!(total_cost(&costs), Some(3.5));
        let mut with_total = costs.clone();
        with_total.insert("total".into(), 10.0);
        assert_eq!(total_cost(&with_total), Some(10.0));
        assert_eq!(total_cost(&BTreeMap::new()), None);
        let usage: BTreeMap<String, i64> = [("input".to_owned(), 3), ("output".to_owned(), 4)]
            .into_iter()
            .collect();
        assert_eq!(total_usage(&usage), Some(7));
    }

    const TRACE_COLUMN_COUNT: usize = 18;
    const OBSERVATION_COLUMN_COUNT: usize = 25;
    const SCORE_COLUMN_COUNT: usize = 21;

    /// The items of a select list: its commas outside parentheses, plus one.
    fn select_items(list: &str) -> usize {
        let mut depth = 0i32;
        let mut items = 1;
        for c in list.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => items += 1,
                _ => {}
            }
        }
        items
    }

    #[test]
    fn column_counts_match_the_column_lists() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let trace_columns = TRACE_COLUMNS.select(dialect);
            let observation_columns = OBSERVATION_COLUMNS.select(dialect);
            let score_columns = SCORE_COLUMNS.select(dialect);
            assert_eq!(select_items(trace_columns), TRACE_COLUMN_COUNT);
            assert_eq!(select_items(observation_columns), OBSERVATION_COLUMN_COUNT);
            assert_eq!(select_items(score_columns), SCORE_COLUMN_COUNT);
        }
        assert_eq!(TRACE_COLUMNS.len(), TRACE_COLUMN_COUNT);
        assert_eq!(OBSERVATION_COLUMNS.len(), OBSERVATION_COLUMN_COUNT);
        assert_eq!(SCORE_COLUMNS.len(), SCORE_COLUMN_COUNT);
    }
}
