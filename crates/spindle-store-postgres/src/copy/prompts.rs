//! The prompt tables of a copy: heads, versions (with their ids and numbers), labels, tags
//! and the references between versions, copied whole in one transaction.
//!
//! A version that already exists in PostgreSQL is kept, and so are its references; a head
//! keeps the higher of the two last version numbers, so later creates never reuse a number;
//! a label or tag already set in PostgreSQL is kept.

use rusqlite::Connection;
use tokio_postgres::types::ToSql;

use super::{all_rows, CopyProgress};
use crate::pg_error;
use spindle_store::Result;

/// A column of a prompt table, read from SQLite and bound on PostgreSQL as it is.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Int,
}

/// A cell read from SQLite; NULL as `None`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
}

impl Cell {
    fn as_param(&self) -> &(dyn ToSql + Sync) {
        match self {
            Cell::Text(value) => value,
            Cell::Int(value) => value,
        }
    }
}

/// A prompt table: its columns and what an insert does with a row already present.
struct Table {
    name: &'static str,
    columns: &'static [(&'static str, Kind)],
    on_conflict: &'static str,
}

use Kind::{Int, Text};

const HEADS: Table = Table {
    name: "prompt_heads",
    columns: &[
        ("project_id", Text),
        ("name", Text),
        ("last_version", Int),
        ("updated_at", Int),
    ],
    on_conflict: "ON CONFLICT (project_id, name) DO UPDATE SET \
        last_version = greatest(prompt_heads.last_version, excluded.last_version), \
        updated_at = greatest(prompt_heads.updated_at, excluded.updated_at)",
};

const VERSIONS: Table = Table {
    name: "prompts",
    columns: &[
        ("project_id", Text),
        ("name", Text),
        ("version", Int),
        ("id", Text),
        ("prompt_type", Text),
        ("prompt", Text),
        ("config", Text),
        ("commit_message", Text),
        ("created_by", Text),
        ("created_at", Int),
        ("updated_at", Int),
    ],
    on_conflict: "ON CONFLICT DO NOTHING",
};

const LABELS: Table = Table {
    name: "prompt_labels",
    columns: &[
        ("project_id", Text),
        ("name", Text),
        ("label", Text),
        ("version", Int),
    ],
    on_conflict: "ON CONFLICT DO NOTHING",
};

const TAGS: Table = Table {
    name: "prompt_tags",
    columns: &[("project_id", Text), ("name", Text), ("tag", Text)],
    on_conflict: "ON CONFLICT DO NOTHING",
};

/// References are inserted only with the version that makes them (the table has no key).
const DEPENDENCIES: Table = Table {
    name: "prompt_dependencies",
    columns: &[
        ("project_id", Text),
        ("name", Text),
        ("version", Int),
        ("child_name", Text),
        ("child_label", Text),
        ("child_version", Int),
    ],
    on_conflict: "",
};

const TABLES: [&Table; 5] = [&HEADS, &VERSIONS, &LABELS, &TAGS, &DEPENDENCIES];

impl Table {
    fn select(&self) -> String {
        let columns: Vec<&str> = self.columns.iter().map(|(name, _)| *name).collect();
        format!(
            "SELECT {} FROM {} ORDER BY 1, 2",
            columns.join(", "),
            self.name
        )
    }

    fn insert(&self) -> String {
        let columns: Vec<&str> = self.columns.iter().map(|(name, _)| *name).collect();
        let placeholders: Vec<String> = (1..=columns.len()).map(|n| format!("${n}")).collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({}) {}",
            self.name,
            columns.join(", "),
            placeholders.join(", "),
            self.on_conflict
        )
    }

    fn read(&self, connection: &Connection) -> Result<Vec<Vec<Cell>>> {
        all_rows(connection, &self.select(), |row| {
            self.columns
                .iter()
                .enumerate()
                .map(|(index, (_, kind))| {
                    Ok(match kind {
                        Text => Cell::Text(row.get(index)?),
                        Int => Cell::Int(row.get(index)?),
                    })
                })
                .collect()
        })
    }
}

/// Every row of the prompt tables, in the order of [`TABLES`].
pub(super) fn read(connection: &Connection) -> Result<Vec<Vec<Vec<Cell>>>> {
    TABLES.iter().map(|table| table.read(connection)).collect()
}

/// Writes what [`read`] returned in one transaction, and reports each table's rows.
pub(super) async fn write(
    client: &mut deadpool_postgres::Client,
    tables: Vec<Vec<Vec<Cell>>>,
) -> Result<Vec<CopyProgress>> {
    let transaction = client.transaction().await.map_err(pg_error)?;
    // The versions this copy inserted: the references of the others are already there.
    let mut inserted = std::collections::BTreeSet::new();
    for (table, rows) in TABLES.iter().zip(&tables) {
        let statement = transaction
            .prepare(&table.insert())
            .await
            .map_err(pg_error)?;
        for row in rows {
            let version = &row[..3];
            if table.name == DEPENDENCIES.name && !inserted.contains(version) {
                continue;
            }
            let params: Vec<&(dyn ToSql + Sync)> = row.iter().map(Cell::as_param).collect();
            let written = transaction
                .execute(&statement, &params)
                .await
                .map_err(pg_error)?;
            if table.name == VERSIONS.name && written == 1 {
                inserted.insert(version.to_vec());
            }
        }
    }
    transaction.commit().await.map_err(pg_error)?;
    Ok(TABLES
        .iter()
        .zip(&tables)
        .map(|(table, rows)| CopyProgress {
            table: table.name,
            copied: rows.len() as u64,
            total: rows.len() as u64,
        })
        .collect())
}
