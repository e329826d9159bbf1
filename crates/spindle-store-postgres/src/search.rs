//! PostgreSQL's search index (migration 0009): `trace_search` rows of a trace's distinct
//! words (see [`spindle_store::search`]), sent as a binary `tsvector` that is already sorted, so
//! PostgreSQL neither parses nor sorts them, under a GIN index.

use bytes::{BufMut, BytesMut};
use deadpool_postgres::Transaction;
use std::collections::BTreeMap;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};

use super::pg_error;
use spindle_store::search::{distinct_words, SearchChanges};
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
                "SELECT id, input, output FROM traces
                 WHERE project_id = $1 AND id = ANY($2::text[])
                 UNION ALL
                 SELECT trace_id, input, output FROM observations
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
        }
        for (trace_id, texts) in &stored {
            distinct_words(texts.iter().map(String::as_str), |words| {
                trace_ids.push(trace_id.clone());
                documents.push(Words::new(words));
            });
        }
    }
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
