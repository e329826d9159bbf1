//! PostgreSQL's search index (migration 0009): `trace_search` rows of a trace's distinct
//! words (see [`spindle_store::search`]), sent as a binary `tsvector` that is already sorted, so
//! PostgreSQL neither parses nor sorts them, under a GIN index. Metadata is searched since
//! migration 0030: the projects it lists get the words of their stored metadata at start-up
//! ([`add_pending_metadata`]).

use bytes::{BufMut, BytesMut};
use deadpool_postgres::Transaction;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use tokio_postgres::Client;

use super::pg_error;
use spindle_store::search::{distinct_words, metadata_texts, SearchChanges};
use spindle_store::Result;

/// Writes a transaction's search changes, in that transaction.
pub(crate) async fn flush(
    changes: SearchChanges<'_>,
    client: &Transaction<'_>,
    project_id: &str,
) -> Result<()> {
    let mut trace_ids: Vec<String> = Vec::new();
    let mut documents: Vec<Words> = Vec::new();
    for (trace_id, texts) in changes.additions() {
        distinct_words(texts.iter().map(AsRef::as_ref), |words| {
            trace_ids.push(trace_id.to_owned());
            documents.push(Words::new(words));
        });
    }
    let rebuild: Vec<String> = changes.rebuilds().iter().cloned().collect();
    if !rebuild.is_empty() {
        forget(client, project_id, &rebuild).await?;
        let rows = client
            .query(
                "SELECT id, input, output, metadata::text FROM traces
                 WHERE project_id = $1 AND id = ANY($2::text[])
                 UNION ALL
                 SELECT trace_id, input, output, metadata::text FROM observations
                 WHERE project_id = $1 AND trace_id = ANY($2::text[])",
                &[&project_id, &rebuild],
            )
            .await
            .map_err(pg_error)?;
        let mut stored: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for row in rows {
            let trace_id: String = row.try_get(0).map_err(pg_error)?;
            let texts = stored.entry(trace_id).or_default();
            for column in [1, 2] {
                if let Some(text) = row.try_get::<_, Option<String>>(column).map_err(pg_error)? {
                    texts.push(text);
                }
            }
            let metadata: String = row.try_get(3).map_err(pg_error)?;
            texts.extend(metadata_texts(&metadata));
        }
        for (trace_id, texts) in &stored {
            distinct_words(texts.iter().map(String::as_str), |words| {
                trace_ids.push(trace_id.clone());
                documents.push(Words::new(words));
            });
        }
    }
    insert_documents(client, project_id, &trace_ids, &documents).await
}

/// Inserts one `trace_search` row per document, under the trace id at the same position.
async fn insert_documents(
    client: &tokio_postgres::Transaction<'_>,
    project_id: &str,
    trace_ids: &[String],
    documents: &[Words],
) -> Result<()> {
    if documents.is_empty() {
        return Ok(());
    }
    client
        .execute(
            "INSERT INTO trace_search (project_id, trace_id, words)
             SELECT $1, u.trace_id, u.words
             FROM unnest($2::text[], $3::tsvector[]) AS u(trace_id, words)",
            &[&project_id, &trace_ids, &documents],
        )
        .await
        .map_err(pg_error)?;
    Ok(())
}

/// Traces whose metadata words are added per statement by [`add_pending_metadata`].
const METADATA_PAGE: i64 = 1000;

/// The progress of [`add_pending_metadata`] is logged at most this often.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// Adds to `trace_search` the words of the stored metadata of every trace (its own and its
/// observations') of the projects in `search_metadata_pending` (migration 0030: the projects
/// of a database written before metadata was searched), one project per transaction, holding
/// off writes to the traces and observations meanwhile (so no write changes the metadata it
/// reads); the project's row goes in the same transaction, so a restart resumes. Observations
/// whose trace is not stored are left out (they are not listed). Progress is logged.
pub(crate) async fn add_pending_metadata(client: &mut Client) -> Result<()> {
    let pending = super::pending_projects(client, "search_metadata_pending").await?;
    for (done, project_id) in pending.iter().enumerate() {
        let Some(transaction) = super::claim_pending(
            client,
            "search_metadata_pending",
            "traces, observations",
            project_id,
        )
        .await?
        else {
            continue;
        };
        let started = Instant::now();
        let mut logged = started;
        let mut traces: u64 = 0;
        let mut indexed: u64 = 0;
        let mut after = String::new();
        loop {
            let page = transaction
                .query(
                    "SELECT id, metadata::text FROM traces WHERE project_id = $1 AND id > $2
                     ORDER BY id LIMIT $3",
                    &[project_id, &after, &METADATA_PAGE],
                )
                .await
                .map_err(pg_error)?;
            let Some(last) = page.last() else {
                break;
            };
            after = last.try_get(0).map_err(pg_error)?;
            let mut texts: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for row in &page {
                let trace_id: String = row.try_get(0).map_err(pg_error)?;
                let metadata: String = row.try_get(1).map_err(pg_error)?;
                texts.insert(trace_id, metadata_texts(&metadata));
            }
            let ids: Vec<&String> = texts.keys().collect();
            let observations = transaction
                .query(
                    "SELECT trace_id, metadata::text FROM observations
                     WHERE project_id = $1 AND trace_id = ANY($2::text[])
                     AND metadata <> '{}'::jsonb",
                    &[project_id, &ids],
                )
                .await
                .map_err(pg_error)?;
            let mut observation_texts: Vec<(String, Vec<String>)> = Vec::new();
            for row in &observations {
                let metadata: String = row.try_get(1).map_err(pg_error)?;
                observation_texts
                    .push((row.try_get(0).map_err(pg_error)?, metadata_texts(&metadata)));
            }
            for (trace_id, more) in observation_texts {
                if let Some(trace_texts) = texts.get_mut(&trace_id) {
                    trace_texts.extend(more);
                }
            }
            let mut trace_ids: Vec<String> = Vec::new();
            let mut documents: Vec<Words> = Vec::new();
            for (trace_id, trace_texts) in &texts {
                distinct_words(trace_texts.iter().map(String::as_str), |words| {
                    trace_ids.push(trace_id.clone());
                    documents.push(Words::new(words));
                });
            }
            insert_documents(&transaction, project_id, &trace_ids, &documents).await?;
            traces += page.len() as u64;
            indexed += trace_ids.len() as u64;
            if logged.elapsed() >= PROGRESS_EVERY {
                logged = Instant::now();
                tracing::info!(
                    project_id = %project_id,
                    traces,
                    "adding metadata to the search index"
                );
            }
        }
        transaction
            .execute(
                "DELETE FROM search_metadata_pending WHERE project_id = $1",
                &[project_id],
            )
            .await
            .map_err(pg_error)?;
        transaction.commit().await.map_err(pg_error)?;
        tracing::info!(
            project_id = %project_id,
            traces,
            rows_added = indexed,
            seconds = started.elapsed().as_secs_f64(),
            projects_left = pending.len() - done - 1,
            "metadata added to the search index"
        );
    }
    Ok(())
}

/// Removes the search rows of these traces (their records are being deleted).
pub(crate) async fn forget(
    client: &Transaction<'_>,
    project_id: &str,
    trace_ids: &[String],
) -> Result<()> {
    client
        .execute(
            "DELETE FROM trace_search WHERE project_id = $1 AND trace_id = ANY($2::text[])",
            &[&project_id, &trace_ids],
        )
        .await
        .map_err(pg_error)?;
    Ok(())
}

/// Rebuilds the search rows of these traces from their stored text (some of their records
/// were deleted).
pub(crate) async fn rebuild(
    client: &Transaction<'_>,
    project_id: &str,
    trace_ids: impl IntoIterator<Item = String>,
) -> Result<()> {
    let mut changes = SearchChanges::default();
    changes.rebuild(trace_ids);
    flush(changes, client, project_id).await
}

/// Distinct words, sorted bytewise (PostgreSQL's lexeme order: shorter first among equal
/// prefixes), in `tsvector`'s binary format without positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Words {
    count: i32,
    body: Vec<u8>,
}

impl Words {
    fn new(words: &[&[u8]]) -> Words {
        let mut body = Vec::with_capacity(words.iter().map(|w| w.len() + 3).sum());
        for word in words {
            body.extend_from_slice(word);
            // The lexeme's terminating zero, then its number of positions.
            body.extend_from_slice(&[0, 0, 0]);
        }
        Words {
            count: i32::try_from(words.len()).unwrap_or(i32::MAX),
            body,
        }
    }
}

impl ToSql for Words {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.put_i32(self.count);
        out.put_slice(&self.body);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        ty.name() == "tsvector"
    }

    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_encoded_as_a_binary_tsvector() {
        let words = Words::new(&[b"ab".as_slice(), b"c".as_slice()]);
        assert_eq!(words.count, 2);
        assert_eq!(words.body, b"ab\0\0\0c\0\0\0");
    }
}
