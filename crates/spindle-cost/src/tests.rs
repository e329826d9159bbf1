//! Tests of the price table, matching, costs and token counts.

use super::*;
use spindle_core::time::parse_iso;

fn at(date: &str) -> i64 {
    parse_iso(date).expect("date")
}

fn check_match(model: &str, expected: Option<&str>) {
    let table = PriceTable::builtin();
    let found = table
        .find(&[], true, model, at("2026-11-01"))
        .map(|entry| entry.id.as_str());
    assert_eq!(found, expected, "{model}");
}

#[test]
fn the_data_file_parses() {
    let table = PriceTable::parse(include_str!("../data/model-prices.json")).expect("valid table");
    assert!(table.models.len() > 50);
    let mut ids: Vec<&str> = table.models.iter().map(|model| model.id.as_str()).collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(before, ids.len(), "ids are unique");
}

#[test]
fn model_name_variants() {
    let cases = [
        ("gpt-4o", Some("openai-gpt-4o")),
        ("GPT-4o", Some("openai-gpt-4o")),
        ("openai/gpt-4o-2024-08-06", Some("openai-gpt-4o")),
        ("azure/gpt-4o", Some("openai-gpt-4o")),
        ("gpt-4o-2024-05-13", Some("openai-gpt-4o-2024-05")),
        ("gpt-4o-mini-2024-07-18", Some("openai-gpt-4o-mini")),
        ("gpt-4-0613", Some("openai-gpt-4")),
        ("gpt-3.5-turbo-0125", Some("openai-gpt-3.5-turbo")),
        ("o3-mini-2025-01-31", Some("openai-o3-mini")),
        ("o3", Some("openai-o3")),
        (
            "claude-3-5-sonnet-20241022",
            Some("anthropic-claude-3-5-sonnet"),
        ),
        (
            "anthropic/claude-sonnet-4-5-20250929",
            Some("anthropic-claude-sonnet-4-5"),
        ),
        (
            "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
            Some("anthropic-claude-3-7-sonnet"),
        ),
        (
            "anthropic.claude-3-haiku-20240307-v1:0",
            Some("anthropic-claude-3-haiku"),
        ),
        (
            "claude-3-5-sonnet-v2@20241022",
            Some("anthropic-claude-3-5-sonnet"),
        ),
        (
            "claude-sonnet-4-20250514",
            Some("anthropic-claude-sonnet-4"),
        ),
        (
            "claude-opus-4-1-20250805",
            Some("anthropic-claude-opus-4-1"),
        ),
        ("vertex_ai/gemini-2.5-pro", Some("google-gemini-2.5-pro")),
        (
            "models/gemini-2.0-flash-001",
            Some("google-gemini-2.0-flash"),
        ),
        (
            "gemini-2.5-flash-lite",
            Some("google-gemini-2.5-flash-lite"),
        ),
        ("mistral-large-2411", Some("mistral-large")),
        ("mistral-large-latest", Some("mistral-large")),
        (
            "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            Some("meta-llama-3.3-70b"),
        ),
        (
            "us.meta.llama3-1-70b-instruct-v1:0",
            Some("meta-llama-3.1-70b"),
        ),
        ("deepseek-chat", Some("deepseek-chat")),
        ("deepseek/deepseek-reasoner", Some("deepseek-reasoner")),
        ("command-r-plus-08-2024", Some("cohere-command-r-plus")),
        ("command-r-plus", Some("cohere-command-r-plus")),
        ("grok-4-0709", Some("xai-grok-4")),
        ("xai/grok-3-mini", Some("xai-grok-3-mini")),
        ("amazon.nova-pro-v1:0", Some("amazon-nova-pro")),
        (
            "text-embedding-3-small",
            Some("openai-text-embedding-3-small"),
        ),
        ("my-own-finetune", None),
    ];
    for (model, expected) in cases {
        check_match(model, expected);
    }
}

#[test]
fn prices_in_force_at_the_time() {
    let table = PriceTable::builtin();
    let old = table
        .find(&[], true, "o3", at("2025-05-01"))
        .map(|entry| entry.id.as_str());
    let new = table
        .find(&[], true, "o3", at("2025-07-01"))
        .map(|entry| entry.id.as_str());
    assert_eq!(old, Some("openai-o3-2025-04"));
    assert_eq!(new, Some("openai-o3"));
    assert!(
        table.find(&[], true, "o3", at("2024-01-01")).is_none(),
        "not yet released"
    );
}

#[test]
fn custom_models_override_and_builtin_can_be_off() {
    let table = PriceTable::builtin();
    let custom = vec![ModelPrice::new(
        "custom-1",
        "gpt-4o",
        "^gpt-4o$",
        None,
        BTreeMap::from([("input".to_owned(), 1e-6), ("output".to_owned(), 2e-6)]),
        Vec::new(),
        None,
        None,
    )
    .expect("valid")];
    let found = table.find(&custom, true, "openai/gpt-4o", at("2026-01-01"));
    assert_eq!(found.map(|entry| entry.id.as_str()), Some("custom-1"));
    assert!(table.find(&[], false, "gpt-4o", at("2026-01-01")).is_none());
    assert!(ModelPrice::new(
        "bad",
        "x",
        "(",
        None,
        BTreeMap::new(),
        Vec::new(),
        None,
        None
    )
    .is_err());
}

fn usage(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), *value))
        .collect()
}

fn check_cost(
    model: &str,
    usage_pairs: &[(&str, i64)],
    expected: &[(&str, f64)],
    tier: Option<&str>,
) {
    let table = PriceTable::builtin();
    let entry = table
        .find(&[], true, model, at("2026-11-01"))
        .expect("model priced");
    let cost = cost_of(&usage(usage_pairs), entry).expect("priced usage");
    for (key, value) in expected {
        let got = cost.details.get(*key).copied().unwrap_or(f64::NAN);
        assert!(
            (got - value).abs() < 1e-12,
            "{model} {key}: expected {value}, got {got} in {:?}",
            cost.details
        );
    }
    assert_eq!(cost.details.len(), expected.len(), "{:?}", cost.details);
    assert_eq!(cost.tier.as_deref(), tier);
}

#[test]
fn usage_times_price() {
    // gpt-4o: $2.50 / $10 per million, cached input $1.25.
    check_cost(
        "gpt-4o",
        &[
            ("input", 1_000_000),
            ("output", 100_000),
            ("total", 1_100_000),
        ],
        &[("input", 2.5), ("output", 1.0), ("total", 3.5)],
        None,
    );
    check_cost(
        "gpt-4o",
        &[
            ("input", 800_000),
            ("input_cached_tokens", 200_000),
            ("output", 0),
        ],
        &[
            ("input", 2.0),
            ("input_cached_tokens", 0.25),
            ("output", 0.0),
            ("total", 2.25),
        ],
        None,
    );
    // o3: reasoning tokens fall back to the output price ($8).
    check_cost(
        "o3",
        &[
            ("input", 1_000),
            ("output", 1_000),
            ("output_reasoning_tokens", 4_000),
        ],
        &[
            ("input", 0.002),
            ("output", 0.008),
            ("output_reasoning_tokens", 0.032),
            ("total", 0.042),
        ],
        None,
    );
    // Anthropic cache reads and writes under Anthropic's names.
    check_cost(
        "claude-3-5-sonnet-20241022",
        &[
            ("input", 1_000),
            ("cache_read_input_tokens", 10_000),
            ("cache_creation_input_tokens", 2_000),
            ("output", 500),
        ],
        &[
            ("input", 0.003),
            ("cache_read_input_tokens", 0.003),
            ("cache_creation_input_tokens", 0.0075),
            ("output", 0.0075),
            ("total", 0.021),
        ],
        None,
    );
}

#[test]
fn tiers_apply_past_their_threshold() {
    // Claude Sonnet 4: over 200K input tokens, $6 / $22.50.
    check_cost(
        "claude-sonnet-4-20250514",
        &[("input", 250_000), ("output", 1_000)],
        &[("input", 1.5), ("output", 0.0225), ("total", 1.5225)],
        Some("Large context (over 200K input tokens)"),
    );
    check_cost(
        "claude-sonnet-4-20250514",
        &[("input", 150_000), ("output", 1_000)],
        &[("input", 0.45), ("output", 0.015), ("total", 0.465)],
        None,
    );
    // Cached input counts toward the threshold.
    check_cost(
        "gemini-2.5-pro",
        &[
            ("input", 150_000),
            ("input_cached_tokens", 60_000),
            ("output", 1_000),
        ],
        &[
            ("input", 0.375),
            ("input_cached_tokens", 0.0186),
            ("output", 0.015),
            ("total", 0.4086),
        ],
        Some("Large context (over 200K input tokens)"),
    );
}

#[test]
fn unpriced_usage_gives_no_cost() {
    let table = PriceTable::builtin();
    let entry = table
        .find(&[], true, "text-embedding-3-small", at("2026-01-01"))
        .expect("priced");
    assert!(cost_of(&usage(&[("output", 10)]), entry).is_none());
    let cost = cost_of(&usage(&[("input", 1_000_000)]), entry).expect("input priced");
    assert!((cost.details["total"] - 0.02).abs() < 1e-12);
}

#[test]
fn token_counts_of_fixed_strings() {
    let cases = [
        ("cl100k_base", "hello world", 2),
        ("o200k_base", "hello world", 2),
        (
            "cl100k_base",
            "The quick brown fox jumps over the lazy dog.",
            10,
        ),
        (
            "o200k_base",
            "The quick brown fox jumps over the lazy dog.",
            10,
        ),
        ("cl100k_base", "", 0),
    ];
    for (encoding, text, expected) in cases {
        assert_eq!(
            tokens::count(encoding, text),
            Some(expected),
            "{encoding} {text:?}"
        );
    }
    assert_eq!(tokens::count("unknown", "x"), None);
    assert_eq!(
        tokens::countable_text(
            r#"[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}]"#
        ),
        "hi\nyo"
    );
}
