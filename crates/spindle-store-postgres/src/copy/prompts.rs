//! The prompt tables of a copy: heads, versions (with their ids and numbers), labels, tags
//! and the references between versions, copied whole in one transaction.
//!
//! A version that already exists in PostgreSQL is kept, and so are its references; a head
//! keeps the higher of the two last version numbers, so later creates never reuse a number;
//! a label or tag already set in PostgreSQL is kept.

use rusqlite::Connection;

use super::tables::{Kind, Table, TableRows};
use super::CopyProgress;
use crate::pg_error;
use spindle_store::Result;

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
    has_rowid: true,
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
    has_rowid: true,
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
    has_rowid: true,
};

const TAGS: Table = Table {
    name: "prompt_tags",
    columns: &[("project_id", Text), ("name", Text), ("tag", Text)],
    on_conflict: "ON CONFLICT DO NOTHING",
    has_rowid: true,
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
    has_rowid: true,
};

const TABLES: [&Table; 5] = [&HEADS, &VERSIONS, &LABELS, &TAGS, &DEPENDENCIES];

/// Every row of the prompt tables, in the order of [`TABLES`].
pub(super) fn read(connection: &Connection) -> Result<Vec<TableRows>> {
    TABLES
        .iter()
        .map(|table| table.read_all(connection))
        .collect()
}

/// Writes what [`read`] returned in one transaction, and reports each table's rows.
pub(super) async fn write(
    client: &mut deadpool_postgres::Client,
    tables: Vec<TableRows>,
) -> Result<Vec<CopyProgress>> {
    let transaction = client.transaction().await.map_err(pg_error)?;
    // The versions this copy inserted: the references of the others are already there.
    let mut inserted = std::collections::BTreeSet::new();
    for (table, rows) in TABLES.iter().zip(&tables) {
        if table.name == DEPENDENCIES.name {
            let made: TableRows = rows
                .iter()
                .filter(|row| inserted.contains(&row[..3]))
                .cloned()
                .collect();
            table.write(&transaction, &made, |_, _| {}).await?;
            continue;
        }
        table
            .write(&transaction, rows, |row, written| {
                if table.name == VERSIONS.name && written {
                    inserted.insert(row[..3].to_vec());
                }
            })
            .await?;
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
