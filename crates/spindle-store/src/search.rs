//! Word-based full-text search: the words of a text, the words of a query, and what a write
//! changes in a trace's words. PostgreSQL's index is built on it (`postgres/search.rs`), and so
//! is SQLite's, which lives in a file of its own (`sqlite/search.rs`).
//!
//! A trace's text is the input, output and metadata (each key and its value; not the
//! [`SHARED_METADATA_KEYS`], the process attributes an OpenTelemetry exporter repeats on every
//! span) of the trace and of its observations.
//!
//! Search answers trace ids, so the index keeps insert-only rows per trace: a write adds
//! one with the distinct words of the texts it added to the trace (its own input, output and
//! metadata, and its observations'). The words the spans of a trace share (a conversation's history
//! repeats in every generation) are then indexed once per write instead of once per span.
//! When a write changes or removes text that was indexed before, the trace's rows are
//! replaced by the words of its current text, so a search never matches words that are gone.

use crate::sql::rows::SHARED_METADATA_KEYS;
use crate::sql::Sql;
use crate::TraceQuery;
use rustc_hash::FxHashSet;
use spindle_core::{ObservationRecord, TraceRecord};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

/// At most this many characters of each input and output are indexed.
const SEARCH_TEXT_LIMIT: usize = 200_000;
/// Words longer than this (in bytes) are not indexed (PostgreSQL's limit is 2047).
const MAX_WORD_BYTES: usize = 2000;
/// The words of one trace and write are split into rows of at most this many bytes
/// (a PostgreSQL `tsvector` holds under 1 MiB).
pub const MAX_DOCUMENT_BYTES: usize = 512 * 1024;

/// The words of a text for the search index and for queries: lower-case, accents removed,
/// every run of other characters one space.
pub fn search_words(text: &str, limit: usize) -> String {
    use unicode_normalization::char::is_combining_mark;
    use unicode_normalization::UnicodeNormalization;
    if text.is_ascii() {
        return ascii_search_words(&text.as_bytes()[..text.len().min(limit)]);
    }
    let mut words = String::with_capacity(text.len().min(limit));
    let mut gap = false;
    for c in text.chars().take(limit).nfd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_alphanumeric() {
            if gap && !words.is_empty() {
                words.push(' ');
            }
            gap = false;
            words.extend(c.to_lowercase());
        } else {
            gap = true;
        }
    }
    words
}

/// [`search_words`] of ASCII text: no normalization needed.
fn ascii_search_words(text: &[u8]) -> String {
    let mut words = Vec::with_capacity(text.len());
    let mut gap = false;
    for &byte in text {
        if byte.is_ascii_alphanumeric() {
            if gap && !words.is_empty() {
                words.push(b' ');
            }
            gap = false;
            words.push(byte.to_ascii_lowercase());
        } else {
            gap = true;
        }
    }
    // Only ASCII letters, digits and spaces were pushed.
    String::from_utf8(words).unwrap_or_default()
}

/// The texts a record contributes to search: its trace's id, its input and output, and its
/// metadata.
pub struct SearchText<'a> {
    pub trace_id: &'a str,
    pub texts: [Option<&'a str>; 2],
    pub metadata: &'a BTreeMap<String, String>,
}

impl<'a> SearchText<'a> {
    fn is_empty(&self) -> bool {
        self.texts.iter().all(|t| t.is_none_or(str::is_empty))
            && self.searched_metadata().next().is_none()
    }

    /// The searched metadata entries (the [`SHARED_METADATA_KEYS`] left out).
    fn searched_metadata(&self) -> impl Iterator<Item = (&'a String, &'a String)> {
        self.metadata.iter().filter(|(key, _)| is_searched_key(key))
    }

    /// Every text: input, output, then each searched metadata key and its value.
    fn all_texts(&self) -> impl Iterator<Item = &'a str> + '_ {
        let entries = self
            .searched_metadata()
            .flat_map(|(key, value)| [key.as_str(), value.as_str()]);
        self.texts.into_iter().flatten().chain(entries)
    }
}

/// Whether a metadata key and its value are searched.
fn is_searched_key(key: &str) -> bool {
    !SHARED_METADATA_KEYS.contains(&key)
}

/// The metadata keys that are not searched (plain identifiers, safe in SQL text).
pub fn unsearched_metadata_keys() -> impl Iterator<Item = &'static str> {
    SHARED_METADATA_KEYS.into_iter()
}

/// The searched texts of stored metadata (a JSON object of strings, as a metadata column
/// holds it): each key and its value, the [`SHARED_METADATA_KEYS`] left out. Values that are
/// no string count as their JSON text; text that is no JSON object has no searched text.
pub fn metadata_texts(metadata: &str) -> Vec<String> {
    let Ok(object) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(metadata)
    else {
        return Vec::new();
    };
    let mut texts = Vec::with_capacity(object.len() * 2);
    for (key, value) in object {
        if !is_searched_key(&key) {
            continue;
        }
        let value = match value {
            serde_json::Value::String(text) => text,
            other => other.to_string(),
        };
        texts.push(key);
        texts.push(value);
    }
    texts
}

/// The words of a user's search text, each with whether it matches as a prefix (only the
/// last: the user may still be typing it); at most 32. A trace matches when every word occurs
/// somewhere in its text or its observations' text, whichever writes brought them.
pub fn query_words(search: &str) -> Vec<(String, bool)> {
    let words = search_words(search, 4096);
    let mut words: Vec<String> = words
        .split(' ')
        .filter(|w| !w.is_empty())
        .take(32)
        .map(str::to_owned)
        .collect();
    let last = words.pop();
    words.sort();
    words.dedup();
    let mut terms: Vec<(String, bool)> = words.into_iter().map(|w| (w, false)).collect();
    terms.extend(last.map(|w| (w, true)));
    terms
}

/// A search whose index estimates at least this many matching traces, and at least
/// [`PROBE_FROM_SHARE`] of the project's, walks the list in its order and asks the index about
/// each trace, so a page stops at its last row; rarer words gather their matches first.
pub const PROBE_FROM_MATCHES: u64 = 2_000;
/// See [`PROBE_FROM_MATCHES`].
pub const PROBE_FROM_SHARE: f64 = 0.05;

/// Whether a search the index estimates to match `estimate` of the project's
/// `project_traces` traces walks the list (see [`PROBE_FROM_MATCHES`]).
pub fn probes_each_trace(estimate: u64, project_traces: u64) -> bool {
    estimate >= PROBE_FROM_MATCHES && estimate as f64 >= PROBE_FROM_SHARE * project_traces as f64
}

/// A search's conditions on the trace `t`, as each backend's index builds them, and how
/// many traces it estimates the search matches.
pub struct SearchConditions {
    /// The matches gathered from the index first, then probed by key: exact counts, and
    /// pages of searches that match few traces.
    pub gathered: Sql,
    /// For a search that matches many traces ([`probes_each_trace`]): each trace, taken in
    /// the list's order, asks the index whether it holds the words, so a page stops after
    /// its last row.
    pub probing: Option<Sql>,
    /// What the index estimates the search to match (at least as many as it matches in the
    /// project when `probing`).
    pub estimate: u64,
}

impl SearchConditions {
    /// Adds the search to the count's `conditions` (the gathered matches) and to the page's
    /// `page_conditions` (probing each trace when the search matches many). Returns the
    /// total to answer instead of a count: the estimate, at most `project_traces`, when the
    /// search probes and is the query's only condition ([`crate::sql::reads::search_alone`]).
    pub fn apply(
        self,
        query: &TraceQuery,
        project_traces: u64,
        conditions: &mut Sql,
        page_conditions: &mut Sql,
    ) -> Option<u64> {
        let mut estimated_total = None;
        match self.probing {
            Some(probing) => {
                if crate::sql::reads::search_alone(query) {
                    estimated_total = Some(self.estimate.min(project_traces));
                }
                page_conditions.and(probing);
            }
            None => {
                page_conditions.and(self.gathered.clone());
            }
        }
        conditions.and(self.gathered);
        estimated_total
    }
}

/// A trace's own input, output and metadata.
pub fn trace_text(record: &TraceRecord) -> Option<SearchText<'_>> {
    Some(SearchText {
        trace_id: &record.id,
        texts: [record.input.as_deref(), record.output.as_deref()],
        metadata: &record.metadata,
    })
}

/// An observation's input, output and metadata, searched under its trace (none without one).
pub fn observation_text(record: &ObservationRecord) -> Option<SearchText<'_>> {
    Some(SearchText {
        trace_id: record.trace_id.as_deref()?,
        texts: [record.input.as_deref(), record.output.as_deref()],
        metadata: &record.metadata,
    })
}

/// What one transaction changes in the search index.
#[derive(Default)]
pub struct SearchChanges<'r> {
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
        texts.extend(text.all_texts().map(Cow::Borrowed));
    }

    /// A stored record (`before`) that a write changed into `after`.
    pub fn updated(&mut self, before: Option<SearchText<'_>>, after: Option<SearchText<'_>>) {
        let present = |text: &Option<&str>| text.is_some_and(|t| !t.is_empty());
        match (before.filter(|b| !b.is_empty()), after) {
            (None, None) => {}
            // Nothing was indexed: the new text only adds words.
            (None, Some(after)) => self.add_owned(after.trace_id, after.all_texts()),
            (Some(before), None) => {
                self.rebuild.insert(before.trace_id.to_owned());
            }
            (Some(before), Some(after)) => {
                let changed = before.trace_id != after.trace_id
                    || before
                        .texts
                        .iter()
                        .zip(&after.texts)
                        .any(|(b, a)| present(b) && b != a)
                    || before
                        .searched_metadata()
                        .any(|(key, value)| after.metadata.get(key) != Some(value));
                if changed {
                    // Indexed text changed or went away: the words are worked out again.
                    self.rebuild.insert(before.trace_id.to_owned());
                    self.rebuild.insert(after.trace_id.to_owned());
                } else {
                    // Text that arrived only now (an output after the input, a new metadata
                    // key) adds its words.
                    let arrived = before
                        .texts
                        .iter()
                        .zip(&after.texts)
                        .filter(|(b, _)| !present(b))
                        .filter_map(|(_, a)| *a);
                    let new_keys = after
                        .searched_metadata()
                        .filter(|(key, _)| !before.metadata.contains_key(*key))
                        .flat_map(|(key, value)| [key.as_str(), value.as_str()]);
                    self.add_owned(after.trace_id, arrived.chain(new_keys));
                }
            }
        }
    }

    fn add_owned<S: AsRef<str>>(&mut self, trace_id: &str, texts: impl Iterator<Item = S>) {
        let texts: Vec<Cow<'r, str>> = texts
            .filter(|t| !t.as_ref().is_empty())
            .map(|t| Cow::Owned(t.as_ref().to_owned()))
            .collect();
        if !texts.is_empty() {
            self.texts_of(trace_id).extend(texts);
        }
    }

    fn texts_of(&mut self, trace_id: &str) -> &mut Vec<Cow<'r, str>> {
        if !self.added.contains_key(trace_id) {
            self.added.insert(trace_id.to_owned(), Vec::new());
        }
        self.added.get_mut(trace_id).expect("inserted above")
    }

    /// Rebuilds these traces' words from their stored text.
    pub fn rebuild<I: IntoIterator<Item = String>>(&mut self, trace_ids: I) {
        self.rebuild.extend(trace_ids);
    }

    /// The texts added to each trace that is not rebuilt.
    pub fn additions(&self) -> impl Iterator<Item = (&str, &[Cow<'r, str>])> {
        self.added
            .iter()
            .filter(|(trace_id, _)| !self.rebuild.contains(*trace_id))
            .map(|(trace_id, texts)| (trace_id.as_str(), texts.as_slice()))
    }

    /// The traces whose words are worked out again from their stored text.
    pub fn rebuilds(&self) -> &BTreeSet<String> {
        &self.rebuild
    }
}

/// Calls `document` with the distinct words of these texts (lower-case, accents removed),
/// sorted bytewise, in groups of at most [`MAX_DOCUMENT_BYTES`]; not at all when the texts
/// have no word.
pub fn distinct_words<'t>(
    texts: impl Iterator<Item = &'t str>,
    mut document: impl FnMut(&[&[u8]]),
) {
    // ASCII text (the common case) is lower-cased in one pass and split at every byte that is
    // not a letter or digit, which gives the same words as `search_words`; other text goes
    // through `search_words` (accents removed), whose words are separated by single spaces.
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
    let mut start = 0;
    let mut bytes = 0;
    for (index, word) in sorted.iter().enumerate() {
        if bytes + word.len() > MAX_DOCUMENT_BYTES {
            document(&sorted[start..index]);
            start = index;
            bytes = 0;
        }
        bytes += word.len();
    }
    if start < sorted.len() {
        document(&sorted[start..]);
    }
}

/// Which of `terms` (from [`query_words`]) occur among the indexed words of `texts`, as a bit
/// mask (bit `i` for term `i`, at most 32 terms): what a word index holding `texts` alone
/// would answer for each term. SQLite checks the text it has not indexed yet with it.
pub fn matched_terms<'t>(terms: &[(String, bool)], texts: impl Iterator<Item = &'t str>) -> u64 {
    let mut mask = 0;
    distinct_words(texts, |words| {
        for word in words {
            for (index, (term, prefix)) in terms.iter().enumerate().take(64) {
                let term = term.as_bytes();
                if *word == term || (*prefix && word.starts_with(term)) {
                    mask |= 1 << index;
                }
            }
        }
    });
    mask
}

/// Adds the words that can be indexed.
fn add_words<'a>(set: &mut FxHashSet<&'a [u8]>, words: impl Iterator<Item = &'a [u8]>) {
    for word in words {
        if !word.is_empty() && word.len() <= MAX_WORD_BYTES {
            set.insert(word);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words_of(texts: &[&str]) -> Vec<Vec<String>> {
        let mut documents = Vec::new();
        distinct_words(texts.iter().copied(), |words| {
            documents.push(
                words
                    .iter()
                    .map(|w| String::from_utf8(w.to_vec()).expect("utf-8"))
                    .collect(),
            );
        });
        documents
    }

    /// The texts each trace not rebuilt gets.
    fn added<'c>(changes: &'c SearchChanges<'_>) -> Vec<(&'c str, Vec<&'c str>)> {
        changes
            .additions()
            .map(|(trace, texts)| (trace, texts.iter().map(AsRef::as_ref).collect()))
            .collect()
    }

    #[test]
    fn search_words_are_folded() {
        assert_eq!(search_words("Héllo, WORLD-x_1!", 100), "hello world x 1");
        assert_eq!(search_words("  ", 100), "");
        assert_eq!(search_words("Hello, WORLD-x_1!", 100), "hello world x 1");
        assert_eq!(search_words("abc def", 5), "abc d");
    }

    #[test]
    fn terms_are_matched_as_words_or_a_last_prefix() {
        let terms = query_words("Café NEEDL");
        let hits = |text: &str| matched_terms(&terms, std::iter::once(text));
        assert_eq!(hits("un CAFE, needles"), 0b11);
        assert_eq!(hits("cafeteria needle"), 0b10, "only the last is a prefix");
        assert_eq!(hits("café"), 0b01);
        assert_eq!(hits(""), 0);
        assert_eq!(
            matched_terms(&terms, ["café", "needle"].into_iter()),
            0b11,
            "words of several texts"
        );
    }

    #[test]
    fn words_are_distinct_sorted_and_folded() {
        assert_eq!(
            words_of(&["Zebra apple, APPLE ab", "Äpfel b zebra"]),
            [["ab", "apfel", "apple", "b", "zebra"]]
        );
        assert!(words_of(&["  ,;", ""]).is_empty());
    }

    #[test]
    fn ascii_words_are_the_query_words() {
        // The ASCII fast path must split as `search_words` does for queries.
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
            let got: Vec<String> = words_of(&[text]).into_iter().flatten().collect();
            assert_eq!(got, expected, "{text:?}");
        }
    }

    #[test]
    fn large_texts_are_split_into_documents() {
        // Ten texts of 20,000 distinct words each (each under the indexed length).
        let texts: Vec<String> = (0..10)
            .map(|t| (0..20_000).map(|i| format!("w{t}x{i} ")).collect())
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let documents = words_of(&refs);
        assert!(documents.len() >= 2, "{} documents", documents.len());
        assert_eq!(documents.iter().map(Vec::len).sum::<usize>(), 200_000);
        for document in &documents {
            assert!(document.iter().map(String::len).sum::<usize>() <= MAX_DOCUMENT_BYTES);
        }
    }

    #[test]
    fn metadata_texts_are_keys_and_values_but_shared_keys() {
        assert_eq!(
            metadata_texts(
                r#"{"tier":"Gold","n":3,"scope":"{\"name\":\"otel\"}","nested":"{\"a\": 1}"}"#
            ),
            ["tier", "Gold", "n", "3", "nested", r#"{"a": 1}"#]
        );
        assert!(metadata_texts("{}").is_empty());
        assert!(metadata_texts("not json").is_empty());
    }

    #[test]
    fn metadata_changes_add_or_rebuild() {
        let map = |entries: &[(&str, &str)]| -> BTreeMap<String, String> {
            entries
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let empty = map(&[]);
        let one = map(&[("tier", "gold")]);
        let two = map(&[("tier", "gold"), ("region", "eu")]);
        let changed = map(&[("tier", "silver")]);
        let shared = map(&[("resourceAttributes", "{}")]);
        let text = |trace: &'static str, metadata| SearchText {
            trace_id: trace,
            texts: [None, None],
            metadata,
        };
        let mut changes = SearchChanges::default();
        changes.inserted(Some(text("t1", &one)));
        changes.inserted(Some(text("t2", &shared)));
        changes.updated(Some(text("t3", &one)), Some(text("t3", &two)));
        changes.updated(Some(text("t4", &one)), Some(text("t4", &changed)));
        changes.updated(Some(text("t5", &empty)), Some(text("t5", &one)));
        changes.updated(Some(text("t6", &shared)), Some(text("t6", &empty)));
        assert_eq!(
            added(&changes),
            [
                ("t1", vec!["tier", "gold"]),
                ("t3", vec!["region", "eu"]),
                ("t5", vec!["tier", "gold"]),
            ],
            "texts added"
        );
        assert_eq!(
            changes.rebuilds().iter().collect::<Vec<_>>(),
            ["t4"],
            "traces rebuilt"
        );
    }

    #[test]
    fn only_changed_indexed_text_rebuilds() {
        let no_metadata = BTreeMap::new();
        let text =
            |trace: &'static str, input: Option<&'static str>, output: Option<&'static str>| {
                SearchText {
                    trace_id: trace,
                    texts: [input, output],
                    metadata: &no_metadata,
                }
            };
        let mut changes = SearchChanges::default();
        changes.inserted(Some(text("t1", Some("a b"), None)));
        changes.inserted(Some(text("t2", None, None)));
        changes.updated(
            Some(text("t3", None, None)),
            Some(text("t3", Some("c"), None)),
        );
        changes.updated(
            Some(text("t4", Some("d"), None)),
            Some(text("t4", Some("d"), None)),
        );
        changes.updated(
            Some(text("t5", Some("d"), None)),
            Some(text("t5", Some("e"), None)),
        );
        changes.updated(
            Some(text("t6", Some("d"), None)),
            Some(text("t7", Some("d"), None)),
        );
        // Output arriving after the input only adds the output's words.
        changes.updated(
            Some(text("t8", Some("x"), None)),
            Some(text("t8", Some("x"), Some("y"))),
        );
        assert_eq!(
            added(&changes),
            [("t1", vec!["a b"]), ("t3", vec!["c"]), ("t8", vec!["y"])],
            "texts added"
        );
        assert_eq!(
            changes.rebuilds().iter().collect::<Vec<_>>(),
            ["t5", "t6", "t7"],
            "traces rebuilt"
        );
    }
}
