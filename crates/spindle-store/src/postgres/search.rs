//! The full-text search index: `trace_search` holds, per trace, insert-only rows of the
//! distinct words of its input and output and of its observations' (migration 0009).
//!
//! A write adds one row per trace it touched, with the words of the texts it added. When it
//! changes text that was indexed before, it replaces that trace's rows with the words of the
//! trace's current text instead, so a search never matches words that are gone. The words
//! are sent as a binary `tsvector` (sorted, distinct), so PostgreSQL neither parses nor sorts
//! them.

use bytes::{BufMut, BytesMut};
use deadpool_postgres::Transaction;
use rustc_hash::FxHashSet;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};

use super::pg_error;
use super::rows::search_words;
use crate::Result;

/// At most this many characters of each input and output are indexed.
const SEARCH_TEXT_LIMIT: usize = 200_000;
/// Lexemes longer than this (in bytes) are not indexed (PostgreSQL's limit is 2047).
const MAX_LEXEME_BYTES: usize = 2000;
/// A `tsvector` holds under 1 MiB of lexemes; a trace's words are split into rows of at
/// most this many bytes.
const MAX_DOCUMENT_BYTES: usize = 512 * 1024;

/// The texts a record contributes to search: its trace's id and its input and output.
pub(crate) struct SearchText<'a> {
    pub trace_id: &'a str,
    pub texts: [Option<&'a str>; 2],
}

impl SearchText<'_> {
    fn is_empty(&self) -> bool {
        self.texts.iter().all(|t| t.is_none_or(str::is_empty))
    }
}

/// What one transaction changes in the search index.
#[derive(Default)]
pub(crate) struct SearchChanges<'r> {
    /// Texts added to each trace.
    added: BTreeMap<String, Vec<Cow<'r, str>>>,
    /// Traces whose indexed text changed: their rows are rebuilt from the stored text.
    rebuild: BTreeSet<String>,
}

impl<'r> SearchChanges<'r> {
    /// A record that was inserted.
    pub fn inserted(&mut self, text: Option<SearchText<'r>>) {
        let Some(text) = text.filter(|t| !t.is_empty()) else {
            return;
        };
        let texts = self.texts_of(text.trace_id);
        texts.extend(text.texts.into_iter().flatten().map(Cow::Borrowed));
    }

    /// A stored record (`before`) that a write changed into `after`.
    pub fn updated(&mut self, before: Option<SearchText<'_>>, after: Option<SearchText<'_>>) {
        let same = match (&before, &after) {
            (Some(b), Some(a)) => b.trace_id == a.trace_id && b.texts == a.texts,
            (None, None) => true,
            _ => false,
        };
        if same {
            return;
        }
        match before.filter(|b| !b.is_empty()) {
            // Indexed text changed: the trace's words are worked out again.
            Some(before) => {
                self.rebuild.insert(before.trace_id.to_owned());
                if let Some(after) = after {
                    self.rebuild.insert(after.trace_id.to_owned());
                }
            }
            // Nothing was indexed: the new text only adds words.
            None => {
                if let Some(after) = after.filter(|a| !a.is_empty()) {
                    let texts = self.texts_of(after.trace_id);
                    texts.extend(
                        after
                            .texts
                            .into_iter()
                            .flatten()
                            .map(|t| Cow::Owned(t.to_owned())),
                    );
                }
            }
        }
    }

    fn texts_of(&mut self, trace_id: &str) -> &mut Vec<Cow<'r, str>> {
        if !self.added.contains_key(trace_id) {
            self.added.insert(trace_id.to_owned(), Vec::new());
        }
        self.added.get_mut(trace_id).expect("inserted above")
    }

    /// Writes the changes, in the transaction that wrote the records.
    pub async fn flush(self, client: &Transaction<'_>, project_id: &str) -> Result<()> {
        let mut trace_ids: Vec<String> = Vec::new();
        let mut documents: Vec<Words> = Vec::new();
        for (trace_id, texts) in &self.added {
            if self.rebuild.contains(trace_id) {
                continue;
            }
            for words in Words::of(texts.iter().map(AsRef::as_ref)) {
                trace_ids.push(trace_id.clone());
                documents.push(words);
            }
        }
        if !self.rebuild.is_empty() {
            let rebuild: Vec<&str> = self.rebuild.iter().map(String::as_str).collect();
            client
                .execute(
                    "DELETE FROM trace_search WHERE project_id = $1 AND trace_id = ANY($2::text[])",
                    &[&project_id, &rebuild],
                )
                .await
                .map_err(pg_error)?;
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
                    if let Some(text) =
                        row.try_get::<_, Option<String>>(column).map_err(pg_error)?
                    {
                        texts.push(text);
                    }
                }
            }
            for (trace_id, texts) in &stored {
                for words in Words::of(texts.iter().map(String::as_str)) {
                    trace_ids.push(trace_id.clone());
                    documents.push(words);
                }
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
    changes.rebuild.extend(trace_ids);
    changes.flush(client, project_id).await
}

/// Distinct words, sorted bytewise (PostgreSQL's lexeme order), in `tsvector`'s binary
/// format without positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Words {
    count: i32,
    body: Vec<u8>,
}

impl Words {
    /// The words of these texts (lower-case, accents removed), in rows of at most
    /// [`MAX_DOCUMENT_BYTES`]; none when the texts have no word.
    pub fn of<'t>(texts: impl Iterator<Item = &'t str>) -> Vec<Words> {
        // ASCII text (the common case) is lower-cased in one pass and split at every byte
        // that is not a letter or digit, which gives the same words as `search_words`; other
        // text goes through `search_words` (accents removed), whose words are separated by
        // single spaces.
        let folded: Vec<(Vec<u8>, bool)> = texts
            .map(|text| {
                if text.is_ascii() {
                    let end = text.len().min(SEARCH_TEXT_LIMIT);
                    (text.as_bytes()[..end].to_ascii_lowercase(), true)
                } else {
                    (search_words(text, SEARCH_TEXT_LIMIT).into_bytes(), false)
                }
            })
            .collect();
        let estimate = folded.iter().map(|(t, _)| t.len() / 16).sum::<usize>();
        let mut distinct: FxHashSet<&[u8]> =
            FxHashSet::with_capacity_and_hasher(estimate.min(1 << 16), Default::default());
        for (text, ascii) in &folded {
            if *ascii {
                add_words(&mut distinct, text.split(|b| !b.is_ascii_alphanumeric()));
            } else {
                add_words(&mut distinct, text.split(|b| *b == b' '));
            }
        }
        let mut sorted: Vec<&[u8]> = distinct.into_iter().collect();
        sorted.sort_unstable();
        let mut documents = Vec::new();
        let mut current = Words {
            count: 0,
            body: Vec::new(),
        };
        let mut bytes = 0;
        for word in sorted {
            if bytes + word.len() > MAX_DOCUMENT_BYTES {
                documents.push(std::mem::replace(
                    &mut current,
                    Words {
                        count: 0,
                        body: Vec::new(),
                    },
                ));
                bytes = 0;
            }
            bytes += word.len();
            current.count += 1;
            current.body.extend_from_slice(word);
            // The lexeme's terminating zero, then its number of positions.
            current.body.extend_from_slice(&[0, 0, 0]);
        }
        if current.count > 0 {
            documents.push(current);
        }
        documents
    }
}

/// Adds the words that can be indexed.
fn add_words<'a>(set: &mut FxHashSet<&'a [u8]>, words: impl Iterator<Item = &'a [u8]>) {
    for word in words {
        if !word.is_empty() && word.len() <= MAX_LEXEME_BYTES {
            set.insert(word);
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

    fn lexemes(words: &Words) -> Vec<String> {
        words
            .body
            .split(|b| *b == 0)
            .map(|part| part.strip_prefix(&[0]).unwrap_or(part))
            .filter(|part| !part.is_empty())
            .map(|part| String::from_utf8(part.to_vec()).expect("utf-8"))
            .collect()
    }

    #[test]
    fn words_are_distinct_sorted_and_folded() {
        let documents = Words::of(["Zebra apple, APPLE ab", "Äpfel b zebra"].into_iter());
        assert_eq!(documents.len(), 1);
        assert_eq!(documents[0].count, 5);
        assert_eq!(
            lexemes(&documents[0]),
            ["ab", "apfel", "apple", "b", "zebra"]
        );
        assert!(Words::of(["  ,;", ""].into_iter()).is_empty());
    }

    #[test]
    fn ascii_words_are_the_query_words() {
        // The writer's ASCII fast path must split as `search_words` does for queries.
        for text in [
            "Hello, WORLD-x_1! snake_case CamelCase a1b2 {\"json\": [1, 2.5e3]}",
            "tab\tnew\nline  multiple   spaces.end",
            "",
        ] {
            let mut expected: Vec<String> = search_words(text, usize::MAX)
                .split(' ')
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect();
            expected.sort();
            expected.dedup();
            let got: Vec<String> = Words::of([text].into_iter())
                .iter()
                .flat_map(lexemes)
                .collect();
            assert_eq!(got, expected, "{text:?}");
        }
    }

    #[test]
    fn large_texts_are_split_into_rows() {
        // Ten texts of 20,000 distinct words each (each under the indexed length).
        let texts: Vec<String> = (0..10)
            .map(|t| (0..20_000).map(|i| format!("w{t}x{i} ")).collect())
            .collect();
        let documents = Words::of(texts.iter().map(String::as_str));
        assert!(documents.len() >= 2, "{} rows", documents.len());
        let total: i32 = documents.iter().map(|d| d.count).sum();
        assert_eq!(total, 200_000);
        for document in &documents {
            let bytes: usize = lexemes(document).iter().map(String::len).sum();
            assert!(bytes <= MAX_DOCUMENT_BYTES);
        }
    }

    #[test]
    fn only_changed_indexed_text_rebuilds() {
        let text = |trace: &'static str, input: Option<&'static str>| SearchText {
            trace_id: trace,
            texts: [input, None],
        };
        let mut changes = SearchChanges::default();
        changes.inserted(Some(text("t1", Some("a b"))));
        changes.inserted(Some(text("t2", None)));
        changes.updated(Some(text("t3", None)), Some(text("t3", Some("c"))));
        changes.updated(Some(text("t4", Some("d"))), Some(text("t4", Some("d"))));
        changes.updated(Some(text("t5", Some("d"))), Some(text("t5", Some("e"))));
        changes.updated(Some(text("t6", Some("d"))), Some(text("t7", Some("d"))));
        assert_eq!(
            changes.added.keys().collect::<Vec<_>>(),
            ["t1", "t3"],
            "texts added"
        );
        assert_eq!(
            changes.rebuild.iter().collect::<Vec<_>>(),
            ["t5", "t6", "t7"],
            "traces rebuilt"
        );
    }
}
