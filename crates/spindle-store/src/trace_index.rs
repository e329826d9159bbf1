//! The trace conditions the tag and metadata index tables answer (`trace_tags`,
//! `trace_metadata`), picked out of a trace query; both backends keep those tables with the
//! same rules, so they pick the same conditions.

use crate::{Filter, FilterValue, TraceQuery};

/// Metadata values longer than this many characters are not in `trace_metadata`.
pub const INDEXED_METADATA_CHARS: usize = 256;

/// One condition an index table answers.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexedTerm {
    /// The trace carries this tag.
    Tag(String),
    /// The trace's metadata `key`, unquoted (see [`unquoted`]), is one of `values`.
    Metadata { key: String, values: Vec<String> },
}

/// A trace query's conditions split into those the index tables answer and the others.
#[derive(Debug, Default)]
pub struct SplitQuery<'q> {
    pub terms: Vec<IndexedTerm>,
    /// The filters left for the trace rows, with their position in `filter=` (for errors).
    pub other_filters: Vec<(usize, &'q Filter)>,
}

impl<'q> SplitQuery<'q> {
    pub fn of(query: &'q TraceQuery) -> Self {
        let mut split = SplitQuery::default();
        for tag in &query.tags {
            push_unique(&mut split.terms, IndexedTerm::Tag(tag.clone()));
        }
        for (index, filter) in query.filters.iter().enumerate() {
            match indexed_terms(filter) {
                Some(terms) => {
                    for term in terms {
                        push_unique(&mut split.terms, term);
                    }
                }
                None => split.other_filters.push((index, filter)),
            }
        }
        split
    }

    /// Removes the tag terms when there are several, and returns them (else nothing).
    pub fn take_tags_if_several(&mut self) -> Vec<String> {
        let tags: Vec<String> = self
            .terms
            .iter()
            .filter_map(|term| match term {
                IndexedTerm::Tag(tag) => Some(tag.clone()),
                IndexedTerm::Metadata { .. } => None,
            })
            .collect();
        if tags.len() < 2 {
            return Vec::new();
        }
        self.terms
            .retain(|term| matches!(term, IndexedTerm::Metadata { .. }));
        tags
    }

    /// Whether the trace rows must be read to decide the query's conditions (beyond the
    /// project and a time range).
    pub fn needs_trace_rows(&self, query: &TraceQuery) -> bool {
        query.user_id.is_some()
            || query.name.is_some()
            || query.session_id.is_some()
            || query.version.is_some()
            || query.release.is_some()
            || !query.environments.is_empty()
            || !self.other_filters.is_empty()
            || query
                .search
                .as_deref()
                .is_some_and(|s| !s.trim().is_empty())
            || query.score.is_some()
            || query.has_comments.is_some()
    }

    /// The term to walk the list from: a tag first (their counts are kept), else the first
    /// metadata term. `None` when the query has none, or has an equality on user, session
    /// or name, whose time-ordered trace indexes are narrower.
    pub fn driver(&self, query: &TraceQuery) -> Option<&IndexedTerm> {
        if query.user_id.is_some() || query.session_id.is_some() || query.name.is_some() {
            return None;
        }
        self.terms
            .iter()
            .find(|term| matches!(term, IndexedTerm::Tag(_)))
            .or_else(|| self.terms.first())
    }
}

/// Whether `filter` keeps the traces whose worst observation level is ERROR (`level = ERROR`
/// or `level any of [ERROR]`): exactly the traces with an ERROR observation, which the
/// partial index `observations_with_errors` lists.
pub fn is_error_level(filter: &Filter) -> bool {
    let is_error =
        |text: &str| spindle_core::Level::parse(text) == Some(spindle_core::Level::Error);
    let operator = filter.operator.trim().to_ascii_lowercase();
    match (filter.column.as_str(), operator.as_str(), &filter.value) {
        ("level", "=" | "any of", FilterValue::String(text)) => is_error(text),
        ("level", "any of", FilterValue::Strings(values)) => {
            !values.is_empty() && values.iter().all(|value| is_error(value))
        }
        _ => false,
    }
}

fn push_unique(terms: &mut Vec<IndexedTerm>, term: IndexedTerm) {
    if !terms.contains(&term) {
        terms.push(term);
    }
}

/// The terms of a filter the index tables answer exactly, or `None`.
pub fn indexed_terms(filter: &Filter) -> Option<Vec<IndexedTerm>> {
    let operator = filter.operator.trim().to_ascii_lowercase();
    match (filter.column.as_str(), operator.as_str(), &filter.value) {
        ("tags", "all of", FilterValue::Strings(tags)) => {
            Some(tags.iter().cloned().map(IndexedTerm::Tag).collect())
        }
        ("tags", "all of" | "any of", FilterValue::String(tag)) => {
            Some(vec![IndexedTerm::Tag(tag.clone())])
        }
        ("tags", "any of", FilterValue::Strings(tags)) if tags.len() == 1 => {
            Some(vec![IndexedTerm::Tag(tags[0].clone())])
        }
        ("metadata", "=", FilterValue::String(text)) => {
            let key = filter.key.as_ref()?;
            // A missing key reads as the empty string: only the trace rows know those.
            if text.is_empty() {
                return None;
            }
            let mut values = vec![text.clone()];
            let plain = unquoted(text);
            if plain != *text {
                values.push(plain.into_owned());
            }
            // A value is in the index only when short enough; a match of a longer one is
            // only in the trace rows.
            if values
                .iter()
                .any(|value| value.is_empty() || value.chars().count() > INDEXED_METADATA_CHARS)
            {
                return None;
            }
            Some(vec![IndexedTerm::Metadata {
                key: key.clone(),
                values,
            }])
        }
        _ => None,
    }
}

/// A metadata value as `trace_metadata` stores it: the content of a JSON string literal
/// (`"acme"` → `acme`), any other text as it is.
pub fn unquoted(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with('"') {
        if let Ok(content) = serde_json::from_str::<String>(text) {
            return std::borrow::Cow::Owned(content);
        }
    }
    std::borrow::Cow::Borrowed(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(column: &str, operator: &str, value: FilterValue, key: Option<&str>) -> Filter {
        Filter {
            key: key.map(str::to_owned),
            ..Filter::new(column, operator, value)
        }
    }

    fn check(filter: Filter, expect: Option<Vec<IndexedTerm>>) {
        assert_eq!(indexed_terms(&filter), expect, "{filter:?}");
    }

    fn tag(name: &str) -> IndexedTerm {
        IndexedTerm::Tag(name.into())
    }

    fn metadata(key: &str, values: &[&str]) -> IndexedTerm {
        IndexedTerm::Metadata {
            key: key.into(),
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    #[test]
    fn picks_the_conditions_the_index_answers() {
        let strings = |v: &[&str]| FilterValue::Strings(v.iter().map(|s| (*s).into()).collect());
        let text = |v: &str| FilterValue::String(v.into());
        check(
            filter("tags", "all of", strings(&["a", "b"]), None),
            Some(vec![tag("a"), tag("b")]),
        );
        check(
            filter("tags", " ANY OF ", strings(&["a"]), None),
            Some(vec![tag("a")]),
        );
        check(filter("tags", "any of", strings(&["a", "b"]), None), None);
        check(filter("tags", "none of", strings(&["a"]), None), None);
        check(
            filter("metadata", "=", text("acme"), Some("tenant")),
            Some(vec![metadata("tenant", &["acme"])]),
        );
        check(
            filter("metadata", "=", text("\"acme\""), Some("tenant")),
            Some(vec![metadata("tenant", &["\"acme\"", "acme"])]),
        );
        check(filter("metadata", "=", text(""), Some("tenant")), None);
        check(filter("metadata", "!=", text("acme"), Some("tenant")), None);
        check(filter("metadata", "=", text("acme"), None), None);
        check(
            filter("metadata", "=", text(&"x".repeat(257)), Some("k")),
            None,
        );
        check(
            filter("metadata", "=", FilterValue::Number(1.0), Some("k")),
            None,
        );
    }

    #[test]
    fn several_tags_can_be_taken_out() {
        let query = TraceQuery {
            tags: vec!["a".into(), "b".into()],
            filters: vec![filter(
                "metadata",
                "=",
                FilterValue::String("x".into()),
                Some("k"),
            )],
            ..TraceQuery::default()
        };
        let mut split = SplitQuery::of(&query);
        assert_eq!(split.take_tags_if_several(), ["a", "b"]);
        assert_eq!(split.terms, vec![metadata("k", &["x"])]);
        let one = TraceQuery {
            tags: vec!["a".into()],
            ..TraceQuery::default()
        };
        let mut split = SplitQuery::of(&one);
        assert!(split.take_tags_if_several().is_empty());
        assert_eq!(split.terms, vec![tag("a")]);
    }

    #[test]
    fn recognizes_the_error_level_filter() {
        let level = |operator: &str, value: FilterValue| filter("level", operator, value, None);
        let strings = |v: &[&str]| FilterValue::Strings(v.iter().map(|s| (*s).into()).collect());
        assert!(is_error_level(&level(
            "=",
            FilterValue::String("ERROR".into())
        )));
        assert!(is_error_level(&level("any of", strings(&["ERROR"]))));
        assert!(!is_error_level(&level(
            "any of",
            strings(&["ERROR", "WARNING"])
        )));
        assert!(!is_error_level(&level(
            "!=",
            FilterValue::String("ERROR".into())
        )));
        assert!(!is_error_level(&level("any of", strings(&[]))));
        assert!(!is_error_level(&level(
            "=",
            FilterValue::String("LOUD".into())
        )));
    }

    #[test]
    fn unquotes_json_strings_only() {
        assert_eq!(unquoted("\"a\\\"b\""), "a\"b");
        assert_eq!(unquoted("42"), "42");
        assert_eq!(unquoted("\"open"), "\"open");
        assert_eq!(unquoted("plain"), "plain");
    }
}
