//! Score configs: the rules a config follows, patches checked as a whole, and what a config
//! makes of the scores that name it (data-driven cases).

use super::*;

fn category(label: &str, value: f64) -> ConfigCategory {
    ConfigCategory {
        label: label.to_owned(),
        value,
    }
}

fn new_config(data_type: ConfigDataType) -> NewScoreConfig {
    NewScoreConfig {
        name: "quality".to_owned(),
        data_type,
        min_value: None,
        max_value: None,
        categories: Vec::new(),
        description: None,
    }
}

fn stored(new: NewScoreConfig) -> ScoreConfig {
    let new = new.checked().expect("a valid config");
    ScoreConfig {
        id: "c1".to_owned(),
        project_id: "p".to_owned(),
        name: new.name,
        data_type: new.data_type,
        is_archived: false,
        min_value: new.min_value,
        max_value: new.max_value,
        categories: new.categories,
        description: new.description,
        created_at: 1,
        updated_at: 1,
    }
}

fn numeric(min: Option<f64>, max: Option<f64>) -> ScoreConfig {
    stored(NewScoreConfig {
        min_value: min,
        max_value: max,
        ..new_config(ConfigDataType::Numeric)
    })
}

fn categorical() -> ScoreConfig {
    stored(NewScoreConfig {
        categories: vec![category("bad", 0.0), category("good", 1.0)],
        ..new_config(ConfigDataType::Categorical)
    })
}

/// The error message of checking `new`, or "ok".
fn check_new(new: NewScoreConfig) -> String {
    match new.checked() {
        Ok(_) => "ok".to_owned(),
        Err(error) => error.message,
    }
}

#[test]
fn configs_are_checked_field_by_field() {
    let numeric_range = |min, max| NewScoreConfig {
        min_value: min,
        max_value: max,
        ..new_config(ConfigDataType::Numeric)
    };
    let with_categories = |categories| NewScoreConfig {
        categories,
        ..new_config(ConfigDataType::Categorical)
    };
    let cases = [
        (numeric_range(Some(0.0), Some(10.0)), "ok"),
        (numeric_range(None, Some(10.0)), "ok"),
        (
            numeric_range(Some(5.0), Some(1.0)),
            "maxValue: must be greater than minValue (1 is not above 5)",
        ),
        (
            numeric_range(Some(f64::NAN), None),
            "minValue: must be a finite number",
        ),
        (
            with_categories(Vec::new()),
            "categories: at least one category is required for CATEGORICAL configs",
        ),
        (
            with_categories(vec![category("a", 1.0), category("a", 2.0)]),
            "categories[1].label: duplicate label \"a\"; labels must be unique",
        ),
        (
            with_categories(vec![category("a", 1.0), category("b", 1.0)]),
            "categories[1].value: duplicate value 1; values must be unique",
        ),
        (
            with_categories(vec![category("", 1.0)]),
            "categories[0].label: must not be empty",
        ),
        (
            NewScoreConfig {
                min_value: Some(1.0),
                ..with_categories(vec![category("a", 1.0)])
            },
            "minValue: is only allowed for NUMERIC configs, not CATEGORICAL",
        ),
        (
            NewScoreConfig {
                categories: vec![category("a", 1.0)],
                ..new_config(ConfigDataType::Boolean)
            },
            "categories: are generated for BOOLEAN configs and cannot be passed",
        ),
        (new_config(ConfigDataType::Boolean), "ok"),
        (
            NewScoreConfig {
                name: "bad/name".to_owned(),
                ..new_config(ConfigDataType::Text)
            },
            "name: '/' is not allowed; use letters, digits, underscores, spaces, periods, parentheses and hyphens",
        ),
        (
            NewScoreConfig {
                name: "x".repeat(36),
                ..new_config(ConfigDataType::Text)
            },
            "name: must be 1 to 35 characters",
        ),
    ];
    for (new, expected) in cases {
        assert_eq!(check_new(new.clone()), expected, "{new:?}");
    }
    let boolean = new_config(ConfigDataType::Boolean).checked().unwrap();
    assert_eq!(boolean.categories, boolean_categories());
    assert_eq!(
        boolean.clone().checked(),
        Ok(boolean),
        "checking twice changes nothing"
    );
}

#[test]
fn patches_are_checked_against_the_stored_config() {
    let config = numeric(Some(0.0), Some(10.0));
    let patch = |patch: ScoreConfigPatch| match config.patched(&patch) {
        Ok(next) => format!("ok {:?} {:?}", next.min_value, next.max_value),
        Err(error) => error.message,
    };
    assert_eq!(
        patch(ScoreConfigPatch {
            min_value: Some(20.0),
            ..ScoreConfigPatch::default()
        }),
        "maxValue: must be greater than minValue (10 is not above 20)"
    );
    assert_eq!(
        patch(ScoreConfigPatch {
            max_value: Some(20.0),
            ..ScoreConfigPatch::default()
        }),
        "ok Some(0.0) Some(20.0)"
    );
    assert_eq!(
        patch(ScoreConfigPatch::default()),
        "body: at least one field must be given to update a score config"
    );
    assert_eq!(
        patch(ScoreConfigPatch {
            categories: Some(vec![category("a", 1.0)]),
            ..ScoreConfigPatch::default()
        }),
        "categories: are only allowed for CATEGORICAL configs"
    );
    let archived = config
        .patched(&ScoreConfigPatch {
            is_archived: Some(true),
            ..ScoreConfigPatch::default()
        })
        .unwrap();
    assert!(archived.is_archived);
    assert_eq!(archived.name, config.name);
}

/// What `config` makes of a score with `data_type` and `value`, as `"<type> <value>
/// <string value>"` or the error message.
fn configure(config: &ScoreConfig, data_type: Option<ScoreDataType>, value: GivenValue) -> String {
    let fields = ScoreFields {
        config_id: "body.configId",
        data_type: "body.dataType",
        value: "body.value",
    };
    match configure_score(config, data_type, &value, fields) {
        Ok(score) => format!(
            "{} {} {}",
            score.data_type.as_str(),
            score.value,
            score.string_value.unwrap_or_default()
        ),
        Err(error) => error.message,
    }
}

#[test]
fn scores_are_checked_against_their_config() {
    use GivenValue::{Number, Text};
    let range = numeric(Some(0.0), Some(10.0));
    let categories = categorical();
    let boolean = stored(new_config(ConfigDataType::Boolean));
    let text = stored(new_config(ConfigDataType::Text));
    let mut archived = numeric(None, None);
    archived.is_archived = true;
    let cases: Vec<(&ScoreConfig, Option<ScoreDataType>, GivenValue, &str)> = vec![
        (&range, None, Number(10.0), "NUMERIC 10 "),
        (&range, Some(ScoreDataType::Numeric), Number(0.0), "NUMERIC 0 "),
        (
            &range,
            None,
            Number(10.5),
            "body.value: 10.5 is above the maximum 10 of score config \"quality\"",
        ),
        (
            &range,
            None,
            Number(-1.0),
            "body.value: -1 is below the minimum 0 of score config \"quality\"",
        ),
        (
            &range,
            None,
            Text("high".into()),
            "body.value: must be a number for the NUMERIC score config \"quality\"",
        ),
        (
            &range,
            Some(ScoreDataType::Categorical),
            Number(1.0),
            "body.dataType: CATEGORICAL does not match the data type NUMERIC of score config \"c1\"",
        ),
        (&categories, None, Text("good".into()), "CATEGORICAL 1 good"),
        (&categories, Some(ScoreDataType::Categorical), Number(0.0), "CATEGORICAL 0 bad"),
        (
            &categories,
            None,
            Text("fine".into()),
            "body.value: \"fine\" is not a category of score config \"quality\"; expected one of \"bad\" (0), \"good\" (1)",
        ),
        (
            &categories,
            None,
            Number(2.0),
            "body.value: 2 is not a category of score config \"quality\"; expected one of \"bad\" (0), \"good\" (1)",
        ),
        (&boolean, None, Number(1.0), "BOOLEAN 1 True"),
        (&boolean, Some(ScoreDataType::Boolean), Number(0.0), "BOOLEAN 0 False"),
        (
            &boolean,
            None,
            Number(0.5),
            "body.value: must be 0 or 1 for the BOOLEAN score config \"quality\"",
        ),
        (&text, None, Text("fine".into()), "TEXT 0 fine"),
        (
            &text,
            None,
            Text(String::new()),
            "body.value: must be 1 to 500 characters",
        ),
        (
            &archived,
            None,
            Number(1.0),
            "body.configId: score config \"c1\" is archived and cannot be used for new scores",
        ),
    ];
    for (config, data_type, value, expected) in cases {
        assert_eq!(
            configure(config, data_type, value.clone()),
            expected,
            "{:?} {data_type:?} {value:?}",
            config.data_type
        );
    }
}

#[test]
fn data_types_round_trip() {
    for kind in ConfigDataType::ALL {
        assert_eq!(ConfigDataType::parse(kind.as_str()), Some(kind));
    }
    assert_eq!(ConfigDataType::parse("CORRECTION"), None);
}
