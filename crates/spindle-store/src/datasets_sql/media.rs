//! The statements of dataset item media, written once for both dialects: the links the media
//! API records when an SDK uploads media for an item (`dataset_item_media`), and the media the
//! reference strings of items' fields resolve to (those of `media` whose bytes were stored).

use crate::datasets::ItemMediaLink;
use crate::executor::{columns_and_codec, first, Executor, FromRow, Single, ToRow};
use crate::sql::rows::{decode_media, MEDIA_SELECT};
use crate::sql::{RowAccess, Sql};
use crate::statements::insert;
use crate::{now_micros, Error, MediaRecord, Result};

/// A `dataset_item_media` row.
struct LinkRow {
    project_id: String,
    dataset_item_id: String,
    media_id: String,
    field: String,
    dataset_id: String,
    created_at: i64,
}

columns_and_codec!(LINK_COLUMNS => LinkRow {
    project_id: text,
    dataset_item_id: text,
    media_id: text,
    field: text,
    dataset_id: text,
    created_at: int,
});

/// A row of [`MEDIA_SELECT`].
struct StoredMedia(MediaRecord);

impl FromRow for StoredMedia {
    fn from_row(row: &impl RowAccess) -> Result<Self> {
        decode_media(row).map(StoredMedia)
    }
}

pub(super) async fn link_item_media(
    db: &impl Executor,
    project_id: &str,
    link: &ItemMediaLink,
) -> Result<()> {
    let dialect = db.dialect();
    let mut dataset = Sql::new(
        dialect,
        "SELECT id AS value FROM datasets WHERE project_id = ",
    );
    dataset
        .bind(project_id)
        .push(" AND id = ")
        .bind(link.dataset_id.as_str());
    if first::<Single<String>>(db, dataset).await?.is_none() {
        return Err(Error::not_found(format!("dataset {:?}", link.dataset_id)));
    }
    let row = LinkRow {
        project_id: project_id.to_owned(),
        dataset_item_id: link.dataset_item_id.clone(),
        media_id: link.media_id.clone(),
        field: link.field.clone(),
        dataset_id: link.dataset_id.clone(),
        created_at: now_micros(),
    };
    let mut sql = insert(dialect, "dataset_item_media", LINK_COLUMNS, row.values());
    sql.push(" ON CONFLICT (project_id, dataset_item_id, media_id, field) DO NOTHING");
    db.modify(vec![sql]).await?;
    Ok(())
}

pub(super) async fn item_media_links(
    db: &impl Executor,
    project_id: &str,
    item_id: &str,
) -> Result<Vec<ItemMediaLink>> {
    let mut sql = Sql::new(
        db.dialect(),
        &format!("SELECT {LINK_COLUMNS} FROM dataset_item_media WHERE project_id = "),
    );
    sql.bind(project_id)
        .push(" AND dataset_item_id = ")
        .bind(item_id)
        .push(" ORDER BY media_id, field");
    let rows: Vec<LinkRow> = db.select(sql).await?;
    Ok(rows
        .into_iter()
        .map(|row| ItemMediaLink {
            dataset_id: row.dataset_id,
            dataset_item_id: row.dataset_item_id,
            media_id: row.media_id,
            field: row.field,
        })
        .collect())
}

/// `DELETE FROM dataset_item_media WHERE project_id = … AND dataset_item_id = …`.
pub(super) fn delete_item_links(
    dialect: crate::sql::Dialect,
    project_id: &str,
    item_id: &str,
) -> Sql {
    let mut sql = Sql::new(
        dialect,
        "DELETE FROM dataset_item_media WHERE project_id = ",
    );
    sql.bind(project_id)
        .push(" AND dataset_item_id = ")
        .bind(item_id);
    sql
}

pub(super) async fn uploaded_media(
    db: &impl Executor,
    project_id: &str,
    media_ids: &[String],
) -> Result<Vec<MediaRecord>> {
    if media_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new(
        db.dialect(),
        &format!("{MEDIA_SELECT} m WHERE project_id = "),
    );
    sql.bind(project_id)
        .push(" AND ")
        .in_list("id", media_ids.to_vec(), false)
        .push(
            " AND EXISTS (SELECT 1 FROM media_blobs b \
             WHERE b.project_id = m.project_id AND b.id = m.id) ORDER BY id",
        );
    let rows: Vec<StoredMedia> = db.select(sql).await?;
    Ok(rows.into_iter().map(|row| row.0).collect())
}
