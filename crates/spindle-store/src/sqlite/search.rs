//! SQLite's search index (migration 0007): a contentless FTS5 table of a trace's distinct
//! words (see [`crate::search`]) and `trace_search_rows`, the trace of each of its rows.

use rusqlite::{params, Connection};
use std::collections::BTreeMap;

use super::sql_error;
use crate::search::{distinct_words, query_words, SearchChanges};
use crate::Result;

/// Writes a transaction's search changes, in that transaction.
pub(crate) fn flush(
    changes: SearchChanges<'_>,
    connection: &Connection,
    project_id: &str,
) -> Result<()> {
    let mut documents: Vec<(String, String)> = Vec::new();
    let mut add = |trace_id: &str, words: &[&[u8]]| {
        let mut text = String::with_capacity(words.iter().map(|w| w.len() + 1).sum());
        for word in words {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(&String::from_utf8_lossy(word));
        }
        documents.push((trace_id.to_owned(), text));
    };
    for (trace_id, texts) in changes.additions() {
        distinct_words(texts.iter().map(AsRef::as_ref), |words| {
            add(trace_id, words)
        });
    }
    if !changes.rebuilds().is_empty() {
        let ids: Vec<&String> = changes.rebuilds().iter().collect();
        let ids = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".to_owned());
        forget_json(connection, project_id, &ids)?;
        let mut statement = connection
            .prepare_cached(
                "SELECT id, input, output FROM traces
                 WHERE project_id = ?1 AND id IN (SELECT value FROM json_each(?2))
                 UNION ALL
                 SELECT trace_id, input, output FROM observations
                 WHERE project_id = ?1 AND trace_id IN (SELECT value FROM json_each(?2))",
            )
            .map_err(sql_error)?;
        let mut stored: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut rows = statement
            .query(params![project_id, ids])
            .map_err(sql_error)?;
        while let Some(row) = rows.next().map_err(sql_error)? {
            let trace_id: String = row.get(0).map_err(sql_error)?;
            let texts = stored.entry(trace_id).or_default();
            for column in [1, 2] {
                if let Some(text) = row.get::<_, Option<String>>(column).map_err(sql_error)? {
                    texts.push(text);
                }
            }
        }
        for (trace_id, texts) in &stored {
            distinct_words(texts.iter().map(String::as_str), |words| {
                add(trace_id, words)
            });
        }
    }
    if documents.is_empty() {
        return Ok(());
    }
    let mut insert_row = connection
        .prepare_cached("INSERT INTO trace_search_rows (project_id, trace_id) VALUES (?1, ?2)")
        .map_err(sql_error)?;
    let mut insert_words = connection
        .prepare_cached("INSERT INTO trace_search (rowid, words) VALUES (?1, ?2)")
        .map_err(sql_error)?;
    for (trace_id, words) in documents {
        insert_row
            .execute(params![project_id, trace_id])
            .map_err(sql_error)?;
        insert_words
            .execute(params![connection.last_insert_rowid(), words])
            .map_err(sql_error)?;
    }
    Ok(())
}

/// Removes the search rows of the traces in `ids_json` (a JSON array of ids).
pub(crate) fn forget_json(connection: &Connection, project_id: &str, ids_json: &str) -> Result<()> {
    connection
        .execute(
            "DELETE FROM trace_search WHERE rowid IN (
                 SELECT rowid FROM trace_search_rows
                 WHERE project_id = ?1 AND trace_id IN (SELECT value FROM json_each(?2)))",
            params![project_id, ids_json],
        )
        .map_err(sql_error)?;
    connection
        .execute(
            "DELETE FROM trace_search_rows
             WHERE project_id = ?1 AND trace_id IN (SELECT value FROM json_each(?2))",
            params![project_id, ids_json],
        )
        .map_err(sql_error)?;
    Ok(())
}

/// One FTS5 query per word of a user's search text (see [`query_words`]), each word quoted
/// so nothing in the text is query syntax; empty when the text has no word characters.
pub(crate) fn match_expressions(search: &str) -> Vec<String> {
    query_words(search)
        .into_iter()
        .map(|(word, prefix)| {
            let quoted = format!("\"{}\"", word.replace('"', "\"\""));
            if prefix {
                quoted + "*"
            } else {
                quoted
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_becomes_quoted_match_expressions() {
        assert_eq!(
            match_expressions("Refund POLICY"),
            ["\"refund\"", "\"policy\"*"]
        );
        assert_eq!(
            match_expressions("a* OR (b) NEAR\"c\""),
            ["\"a\"", "\"b\"", "\"near\"", "\"or\"", "\"c\"*"]
        );
        assert!(match_expressions("%;'").is_empty());
    }
}
