//! Tests of the filter compiler: each operator and column kind rendered for both dialects.

use super::*;

const COLUMNS: &[Column] = &[
    Column::new("name", ColumnKind::Text, "t.name"),
    Column::new("latency", ColumnKind::Number, "lat"),
    Column::new("tags", ColumnKind::Array, "t.tags"),
    Column::new("metadata", ColumnKind::Object, "t.metadata"),
];

fn check_error(filter: Filter, expected: &str) {
    for dialect in [Dialect::Sqlite, Dialect::Postgres] {
        let mut sql = Sql::new(dialect, "");
        let error = compile_filters(&mut sql, std::slice::from_ref(&filter), COLUMNS).err();
        let message = error.map(|e| e.message).unwrap_or_default();
        assert!(message.starts_with(expected), "{message}");
    }
}

#[test]
fn errors_name_the_field() {
    check_error(
        Filter::new("foo", "=", FilterValue::String("x".into())),
        "filter[0].column: unknown column \"foo\"",
    );
    check_error(
        Filter::new("name", "~", FilterValue::String("x".into())),
        "filter[0].operator: unknown operator \"~\"",
    );
    check_error(
        Filter::new("latency", ">", FilterValue::String("x".into())),
        "filter[0].value: expected a finite number",
    );
    check_error(
        Filter::new("tags", "=", FilterValue::Strings(vec![])),
        "filter[0].operator: unknown operator \"=\"",
    );
    check_error(
        Filter::new("metadata", "=", FilterValue::String("x".into())),
        "filter[0].key: required",
    );
}

#[test]
fn like_patterns_are_escaped() {
    assert_eq!(like_escape("50%_a\\"), "50\\%\\_a\\\\");
    let mut sql = Sql::new(Dialect::Sqlite, "");
    let mut f = Filter::new("metadata", "starts with", FilterValue::String("a%".into()));
    f.key = Some("k".into());
    compile_filters(&mut sql, &[f], COLUMNS).expect("compiles");
    assert!(sql.text.contains("LIKE ? ESCAPE"), "{}", sql.text);
    assert_eq!(sql.params.len(), 2);
}
