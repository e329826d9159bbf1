//! The prompt tables of a copy: heads, versions (with their ids and numbers), labels, tags
//! and the references between versions, copied whole in one transaction.
//!
//! A version that already exists in PostgreSQL is kept, and so are its references; a head
//! keeps the higher of the two last version numbers, so later creates never reuse a number;
//! a label or tag already set in PostgreSQL is kept.

use rusqlite::Connection;

use super::tables::{copied_whole, read_whole, Kind, Table, TableRows};
use super::CopyProgress;
use crate::pg_error;
use spindle_store::Result;

use Kind::{Int, Text};

const HEADS: Table = Table {
    on_conflict: "ON CONFLICT (project_id, name) DO UPDATE SET \
        last_version = greatest(prompt_heads.last_version, excluded.last_version), \
        updated_at = greatest(prompt_heads.updated_at, excluded.updated_at)",
    ..Table::plain(
        "prompt_heads",
        &[
            ("project_id", Text),
            ("name", Text),
            ("last_version", Int),
            ("updated_at", Int),
        ],
    )
};

const VERSIONS: Table = Table::plain(
    "prompts",
    &[
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
);

const LABELS: Table = Table::plain(
    "prompt_labels",
    &[
        ("project_id", Text),
        ("name", Text),
        ("label", Text),
        ("version", Int),
    ],
);

const TAGS: Table = Table::plain(
    "prompt_tags",
    &[("project_id", Text), ("name", Text), ("tag", Text)],
);

/// References are inserted only with the version that makes them (the table has no key).
const DEPENDENCIES: Table = Table {
    on_conflict: "",
    ..Table::plain(
        "prompt_dependencies",
        &[
            ("project_id", Text),
            ("name", Text),
            ("version", Int),
            ("child_name", Text),
            ("child_label", Text),
            ("child_version", Int),
        ],
    )
};

const TABLES: [&Table; 5] = [&HEADS, &VERSIONS, &LABELS, &TAGS, &DEPENDENCIES];

/// Every row of the prompt tables, in the order of [`TABLES`].
pub(super) fn read(connection: &Connection) -> Result<Vec<TableRows>> {
    read_whole(connection, TABLES)
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
    Ok(copied_whole(TABLES, &tables))
}
