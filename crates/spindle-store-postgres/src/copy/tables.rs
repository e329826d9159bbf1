//! Plain tables of a copy: a table declared by its column list is read from SQLite and
//! written to PostgreSQL row by row as it is stored (ids and times kept), with the table's
//! rule for a row PostgreSQL already has.
//!
//! The tables copied this way, in batches by rowid with the copy's progress bookkeeping, are
//! [`PLAIN`]: datasets with their items, item versions, runs, run items and item media, score
//! configs, annotation queues with their items and assignments, comments, and the audit log.
//! Their rows carry their own keys, so a row already in PostgreSQL (from an earlier run, or
//! written by a live instance) is kept, and a second run adds nothing. Audit entries keep
//! their ids unless PostgreSQL already used one, in which case the entry takes the next id
//! (the progress bookkeeping, in the batch's transaction, keeps a run from copying one twice).

use bytes::BytesMut;
use rusqlite::{params, Connection};
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};

use super::{all_rows, sqlite_error, CopyProgress};
use crate::pg_error;
use spindle_store::Result;

/// How a column is read from SQLite and bound on PostgreSQL.
#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    Text,
    Int,
    Real,
    /// SQLite's 0/1 integer, PostgreSQL's boolean.
    Bool,
    /// A PostgreSQL identity column: the stored value is kept unless PostgreSQL already has a
    /// row with it, which then gets the column's next value.
    Identity,
}

impl Kind {
    /// The PostgreSQL type a value of this kind is bound as.
    fn bound_as(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Int | Kind::Identity => "bigint",
            Kind::Real => "double precision",
            Kind::Bool => "boolean",
        }
    }
}

/// A float ordered by its total order, so that rows of cells can be compared and kept in sets.
#[derive(Debug, Clone, Copy)]
pub(super) struct Real(f64);

impl PartialEq for Real {
    fn eq(&self, other: &Real) -> bool {
        self.0.total_cmp(&other.0).is_eq()
    }
}

impl Eq for Real {}

impl PartialOrd for Real {
    fn partial_cmp(&self, other: &Real) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Real {
    fn cmp(&self, other: &Real) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl ToSql for Real {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        self.0.to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        <f64 as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

/// A cell read from SQLite; NULL as `None`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
    Real(Option<Real>),
    Bool(Option<bool>),
}

impl Cell {
    fn as_param(&self) -> &(dyn ToSql + Sync) {
        match self {
            Cell::Text(value) => value,
            Cell::Int(value) => value,
            Cell::Real(value) => value,
            Cell::Bool(value) => value,
        }
    }

    fn read(row: &rusqlite::Row<'_>, index: usize, kind: Kind) -> rusqlite::Result<Cell> {
        Ok(match kind {
            Kind::Text => Cell::Text(row.get(index)?),
            Kind::Int | Kind::Identity => Cell::Int(row.get(index)?),
            Kind::Real => Cell::Real(row.get::<_, Option<f64>>(index)?.map(Real)),
            Kind::Bool => Cell::Bool(row.get(index)?),
        })
    }
}

/// A table copied as stored: its columns (the same names in both backends) and what an insert
/// does with a row already present.
#[derive(Debug)]
pub(super) struct Table {
    pub(super) name: &'static str,
    pub(super) columns: &'static [(&'static str, Kind)],
    pub(super) on_conflict: &'static str,
    /// A condition a row must meet to be inserted, naming its values as `$1`, `$2`… in the
    /// order of `columns` (a row whose user PostgreSQL does not have is left out); empty for
    /// none.
    pub(super) only_if: &'static str,
    /// False for a SQLite table `WITHOUT ROWID`, which is read whole in one batch.
    pub(super) has_rowid: bool,
}

/// The rows of one batch of a table.
pub(super) type TableRows = Vec<Vec<Cell>>;

/// Every row of each of `tables` (see [`Table::read_all`]).
pub(super) fn read_whole<'t>(
    connection: &Connection,
    tables: impl IntoIterator<Item = &'t Table>,
) -> Result<Vec<TableRows>> {
    tables
        .into_iter()
        .map(|table| table.read_all(connection))
        .collect()
}

/// The report of tables copied whole, each with its rows.
pub(super) fn copied_whole<'t>(
    tables: impl IntoIterator<Item = &'t Table>,
    rows: &[TableRows],
) -> Vec<CopyProgress> {
    tables
        .into_iter()
        .zip(rows)
        .map(|(table, rows)| CopyProgress {
            table: table.name,
            copied: rows.len() as u64,
            total: rows.len() as u64,
        })
        .collect()
}

impl Table {
    /// A table read by rowid whose rows carry their own keys: a row PostgreSQL already has is
    /// kept.
    pub(super) const fn plain(
        name: &'static str,
        columns: &'static [(&'static str, Kind)],
    ) -> Table {
        Table {
            name,
            columns,
            on_conflict: "ON CONFLICT DO NOTHING",
            only_if: "",
            has_rowid: true,
        }
    }

    fn column_names(&self) -> String {
        let names: Vec<&str> = self.columns.iter().map(|(name, _)| *name).collect();
        names.join(", ")
    }

    fn identity(&self) -> Option<&'static str> {
        self.columns
            .iter()
            .find(|(_, kind)| matches!(kind, Kind::Identity))
            .map(|(name, _)| *name)
    }

    pub(super) fn insert(&self) -> String {
        let values: Vec<String> = self
            .columns
            .iter()
            .enumerate()
            .map(|(index, (name, kind))| {
                // Typed as read, so a narrower column (an `integer`) takes the value by an
                // assignment cast.
                let param = format!("${}::{}", index + 1, kind.bound_as());
                match kind {
                    Kind::Identity => format!(
                        "CASE WHEN EXISTS (SELECT 1 FROM {table} WHERE {name} = {param}) \
                         THEN nextval(pg_get_serial_sequence('{table}', '{name}')) \
                         ELSE {param} END",
                        table = self.name
                    ),
                    _ => param,
                }
            })
            .collect();
        let overriding = if self.identity().is_some() {
            "OVERRIDING SYSTEM VALUE "
        } else {
            ""
        };
        let values = values.join(", ");
        let rows = if self.only_if.is_empty() {
            format!("VALUES ({values})")
        } else {
            format!("SELECT {values} WHERE {}", self.only_if)
        };
        format!(
            "INSERT INTO {} ({}) {overriding}{rows} {}",
            self.name,
            self.column_names(),
            self.on_conflict
        )
    }

    fn read_row(&self, row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Vec<Cell>> {
        self.columns
            .iter()
            .enumerate()
            .map(|(index, (_, kind))| Cell::read(row, first + index, *kind))
            .collect()
    }

    /// Every row, ordered by the first two columns.
    pub(super) fn read_all(&self, connection: &Connection) -> Result<TableRows> {
        let sql = format!(
            "SELECT {} FROM {} ORDER BY 1, 2",
            self.column_names(),
            self.name
        );
        all_rows(connection, &sql, |row| self.read_row(row, 0))
    }

    /// Up to `limit` rows after rowid `after`, with the last rowid read. A table without
    /// rowid is one batch: all of it when `after` is 0, and nothing after that.
    pub(super) fn read_batch(
        &self,
        connection: &Connection,
        after: i64,
        limit: i64,
    ) -> Result<(TableRows, i64)> {
        if !self.has_rowid {
            if after != 0 {
                return Ok((Vec::new(), after));
            }
            return Ok((self.read_all(connection)?, 1));
        }
        let mut statement = connection
            .prepare_cached(&format!(
                "SELECT rowid, {} FROM {} WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
                self.column_names(),
                self.name
            ))
            .map_err(sqlite_error)?;
        let rows = statement
            .query_map(params![after, limit], |row| {
                Ok((row.get::<_, i64>(0)?, self.read_row(row, 1)?))
            })
            .map_err(sqlite_error)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(sqlite_error)?;
        let last = rows.last().map_or(after, |(rowid, _)| *rowid);
        Ok((rows.into_iter().map(|(_, cells)| cells).collect(), last))
    }

    /// Inserts the rows with one prepared statement; calls `written` with each row and
    /// whether it was inserted.
    pub(super) async fn write(
        &self,
        transaction: &deadpool_postgres::Transaction<'_>,
        rows: &[Vec<Cell>],
        mut written: impl FnMut(&[Cell], bool),
    ) -> Result<()> {
        let statement = transaction
            .prepare(&self.insert())
            .await
            .map_err(pg_error)?;
        for row in rows {
            let params: Vec<&(dyn ToSql + Sync)> = row.iter().map(Cell::as_param).collect();
            let inserted = transaction
                .execute(&statement, &params)
                .await
                .map_err(pg_error)?;
            written(row, inserted == 1);
        }
        if let Some(column) = self.identity() {
            // The next generated id follows the highest id now stored.
            transaction
                .execute(
                    &format!(
                        "SELECT setval(sequence, greatest(
                             (SELECT coalesce(max({column}), 1) FROM {table}),
                             coalesce(pg_sequence_last_value(sequence::regclass), 1)))
                         FROM pg_get_serial_sequence('{table}', '{column}') AS sequence",
                        table = self.name
                    ),
                    &[],
                )
                .await
                .map_err(pg_error)?;
        }
        Ok(())
    }
}

use Kind::{Bool, Identity, Int, Real as Float, Text};

/// The item columns shared by `dataset_items` and `dataset_item_versions`.
macro_rules! dataset_item_columns {
    ($($extra:expr),*) => {
        &[
            ("id", Text),
            ("project_id", Text),
            ("dataset_id", Text),
            ("status", Text),
            ("input", Text),
            ("expected_output", Text),
            ("metadata", Text),
            ("source_trace_id", Text),
            ("source_observation_id", Text),
            ("created_at", Int),
            ("updated_at", Int),
            $($extra),*
        ]
    };
}

/// The plain tables, in the order they are copied.
pub(super) static PLAIN: [Table; 13] = [
    Table::plain(
        "datasets",
        &[
            ("id", Text),
            ("project_id", Text),
            ("name", Text),
            ("description", Text),
            ("metadata", Text),
            ("input_schema", Text),
            ("expected_output_schema", Text),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    ),
    Table::plain("dataset_items", dataset_item_columns!()),
    Table::plain(
        "dataset_item_versions",
        dataset_item_columns!(("valid_from", Int), ("deleted", Int)),
    ),
    Table::plain(
        "dataset_item_media",
        &[
            ("project_id", Text),
            ("dataset_item_id", Text),
            ("media_id", Text),
            ("field", Text),
            ("dataset_id", Text),
            ("created_at", Int),
        ],
    ),
    Table::plain(
        "dataset_runs",
        &[
            ("id", Text),
            ("project_id", Text),
            ("dataset_id", Text),
            ("name", Text),
            ("description", Text),
            ("metadata", Text),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    ),
    Table::plain(
        "dataset_run_items",
        &[
            ("id", Text),
            ("project_id", Text),
            ("run_id", Text),
            ("dataset_item_id", Text),
            ("trace_id", Text),
            ("observation_id", Text),
            ("created_at", Int),
            ("updated_at", Int),
            ("dataset_version", Int),
        ],
    ),
    Table::plain(
        "score_configs",
        &[
            ("id", Text),
            ("project_id", Text),
            ("name", Text),
            ("data_type", Text),
            ("is_archived", Bool),
            ("min_value", Float),
            ("max_value", Float),
            ("categories", Text),
            ("description", Text),
            ("revision", Int),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    ),
    Table::plain(
        "annotation_queues",
        &[
            ("id", Text),
            ("project_id", Text),
            ("name", Text),
            ("description", Text),
            ("score_config_ids", Text),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    ),
    Table::plain(
        "annotation_queue_items",
        &[
            ("id", Text),
            ("project_id", Text),
            ("queue_id", Text),
            ("object_id", Text),
            ("object_type", Text),
            ("status", Text),
            ("completed_at", Int),
            ("created_at", Int),
            ("updated_at", Int),
            ("completed_by_user_id", Text),
            ("claimed_by_user_id", Text),
            ("claim_expires_at", Int),
        ],
    ),
    Table {
        has_rowid: false,
        ..Table::plain(
            "annotation_queue_assignments",
            &[
                ("project_id", Text),
                ("queue_id", Text),
                ("user_id", Text),
                ("created_at", Int),
            ],
        )
    },
    Table::plain(
        "comments",
        &[
            ("id", Text),
            ("project_id", Text),
            ("object_type", Text),
            ("object_id", Text),
            ("content", Text),
            ("author_user_id", Text),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    ),
    Table {
        on_conflict: "",
        ..Table::plain(
            "audit_log",
            &[
                ("id", Identity),
                ("organization_id", Text),
                ("project_id", Text),
                ("actor_kind", Text),
                ("actor_id", Text),
                ("action", Text),
                ("resource_type", Text),
                ("resource_id", Text),
                ("details", Text),
                ("created_at", Int),
            ],
        )
    },
    // A project's rolled-up metadata keys: the copy ends with a rebuild of the project's
    // totals rows and rollups (`rollups_pending`), which rolls them up and makes them ready.
    Table {
        has_rowid: false,
        ..Table::plain(
            "rolled_metadata_keys",
            &[
                ("project_id", Text),
                ("key", Text),
                ("ready", Int),
                ("created_at", Int),
            ],
        )
    },
];
