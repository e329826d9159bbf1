//! Score configs: the shape a project's scores of one name must have (a numeric range, a set
//! of categories, a boolean, or free text), the rules a config itself must follow, and the
//! check of a score that names a config, which fills in what the config decides (the data
//! type, the numeric value of a category given by its label, the label of a category given by
//! its value).

use crate::model::ScoreDataType;
use crate::time::Micros;
use crate::Error;

/// The data type of a config; scores that name the config take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigDataType {
    Numeric,
    Categorical,
    Boolean,
    Text,
}

impl ConfigDataType {
    pub const ALL: [ConfigDataType; 4] = [
        ConfigDataType::Numeric,
        ConfigDataType::Categorical,
        ConfigDataType::Boolean,
        ConfigDataType::Text,
    ];

    pub fn as_str(self) -> &'static str {
        self.score_data_type().as_str()
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// The data type of the scores that name a config of this type.
    pub fn score_data_type(self) -> ScoreDataType {
        match self {
            ConfigDataType::Numeric => ScoreDataType::Numeric,
            ConfigDataType::Categorical => ScoreDataType::Categorical,
            ConfigDataType::Boolean => ScoreDataType::Boolean,
            ConfigDataType::Text => ScoreDataType::Text,
        }
    }
}

/// One category of a categorical (or boolean) config.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigCategory {
    pub label: String,
    pub value: f64,
}

/// The categories every boolean config has.
pub fn boolean_categories() -> Vec<ConfigCategory> {
    vec![
        ConfigCategory {
            label: "True".to_owned(),
            value: 1.0,
        },
        ConfigCategory {
            label: "False".to_owned(),
            value: 0.0,
        },
    ]
}

/// The longest config name, in characters.
pub const NAME_MAX_CHARS: usize = 35;

/// The longest text score value, in characters.
pub const TEXT_MAX_CHARS: usize = 500;

/// A config to create. Checked by [`NewScoreConfig::checked`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewScoreConfig {
    pub name: String,
    pub data_type: ConfigDataType,
    pub min_value: Option<f64>,
    pub max_value: Option<f64>,
    /// Empty for numeric and text configs; generated for boolean ones.
    pub categories: Vec<ConfigCategory>,
    pub description: Option<String>,
}

/// A stored config.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreConfig {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub data_type: ConfigDataType,
    pub is_archived: bool,
    pub min_value: Option<f64>,
    pub max_value: Option<f64>,
    pub categories: Vec<ConfigCategory>,
    pub description: Option<String>,
    pub created_at: Micros,
    pub updated_at: Micros,
}

/// A change to a stored config: what is `None` is kept. The data type never changes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScoreConfigPatch {
    pub is_archived: Option<bool>,
    pub name: Option<String>,
    pub min_value: Option<f64>,
    pub max_value: Option<f64>,
    pub categories: Option<Vec<ConfigCategory>>,
    pub description: Option<String>,
}

impl ScoreConfigPatch {
    pub fn is_empty(&self) -> bool {
        self == &ScoreConfigPatch::default()
    }
}

/// Checks a config name: 1 to 35 letters, digits, underscores, spaces, periods, parentheses
/// and hyphens.
pub fn check_name(field: &str, name: &str) -> Result<(), Error> {
    let length = name.chars().count();
    if length == 0 || length > NAME_MAX_CHARS {
        return Err(Error::invalid(
            field,
            format!("must be 1 to {NAME_MAX_CHARS} characters"),
        ));
    }
    let allowed = |c: char| c.is_alphanumeric() || matches!(c, '_' | ' ' | '.' | '(' | ')' | '-');
    if let Some(bad) = name.chars().find(|c| !allowed(*c)) {
        return Err(Error::invalid(
            field,
            format!(
                "{bad:?} is not allowed; use letters, digits, underscores, spaces, periods, parentheses and hyphens"
            ),
        ));
    }
    Ok(())
}

/// The fields of a config whose combination is checked (field names as the API spells them).
struct Shape<'a> {
    data_type: ConfigDataType,
    min_value: Option<f64>,
    max_value: Option<f64>,
    categories: &'a [ConfigCategory],
}

impl Shape<'_> {
    fn check(&self) -> Result<(), Error> {
        for (field, bound) in [("minValue", self.min_value), ("maxValue", self.max_value)] {
            if bound.is_some_and(|bound| !bound.is_finite()) {
                return Err(Error::invalid(field, "must be a finite number"));
            }
        }
        match self.data_type {
            ConfigDataType::Numeric => {
                if !self.categories.is_empty() {
                    return Err(Error::invalid(
                        "categories",
                        "are only allowed for CATEGORICAL configs",
                    ));
                }
                if let (Some(min), Some(max)) = (self.min_value, self.max_value) {
                    if max <= min {
                        return Err(Error::invalid(
                            "maxValue",
                            format!("must be greater than minValue ({max} is not above {min})"),
                        ));
                    }
                }
            }
            ConfigDataType::Categorical => {
                self.no_range()?;
                check_categories(self.categories)?;
            }
            ConfigDataType::Boolean => {
                if self.categories != boolean_categories().as_slice() {
                    return Err(Error::invalid(
                        "categories",
                        "are generated for BOOLEAN configs (True = 1, False = 0) and cannot be changed",
                    ));
                }
            }
            ConfigDataType::Text => {
                self.no_range()?;
                if !self.categories.is_empty() {
                    return Err(Error::invalid(
                        "categories",
                        "are only allowed for CATEGORICAL configs",
                    ));
                }
            }
        }
        Ok(())
    }

    fn no_range(&self) -> Result<(), Error> {
        for (field, bound) in [("minValue", self.min_value), ("maxValue", self.max_value)] {
            if bound.is_some() {
                return Err(Error::invalid(
                    field,
                    format!(
                        "is only allowed for NUMERIC configs, not {}",
                        self.data_type.as_str()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Checks the categories of a categorical config: at least one, labels non-empty, labels and
/// values unique, values finite.
fn check_categories(categories: &[ConfigCategory]) -> Result<(), Error> {
    if categories.is_empty() {
        return Err(Error::invalid(
            "categories",
            "at least one category is required for CATEGORICAL configs",
        ));
    }
    for (index, category) in categories.iter().enumerate() {
        if category.label.is_empty() {
            return Err(Error::invalid(
                format!("categories[{index}].label"),
                "must not be empty",
            ));
        }
        if !category.value.is_finite() {
            return Err(Error::invalid(
                format!("categories[{index}].value"),
                "must be a finite number",
            ));
        }
        let earlier = &categories[..index];
        if earlier.iter().any(|other| other.label == category.label) {
            return Err(Error::invalid(
                format!("categories[{index}].label"),
                format!(
                    "duplicate label {:?}; labels must be unique",
                    category.label
                ),
            ));
        }
        if earlier.iter().any(|other| other.value == category.value) {
            return Err(Error::invalid(
                format!("categories[{index}].value"),
                format!("duplicate value {}; values must be unique", category.value),
            ));
        }
    }
    Ok(())
}

impl NewScoreConfig {
    /// The config as it is stored: boolean configs get their two categories (and lose a
    /// range, as Langfuse ignores it), and everything is checked. A boolean config given other
    /// categories is refused.
    pub fn checked(mut self) -> Result<NewScoreConfig, Error> {
        check_name("name", &self.name)?;
        if self.data_type == ConfigDataType::Boolean {
            // Checking twice changes nothing: the generated categories pass.
            if !self.categories.is_empty() && self.categories != boolean_categories() {
                return Err(Error::invalid(
                    "categories",
                    "are generated for BOOLEAN configs and cannot be passed",
                ));
            }
            self.categories = boolean_categories();
            // Langfuse ignores a range given to a boolean config.
            self.min_value = None;
            self.max_value = None;
        }
        Shape {
            data_type: self.data_type,
            min_value: self.min_value,
            max_value: self.max_value,
            categories: &self.categories,
        }
        .check()?;
        Ok(self)
    }
}

impl ScoreConfig {
    /// The config with `patch` applied, checked as a whole (a new `minValue` must stay under
    /// the stored `maxValue`, and so on). `updated_at` is left to the caller.
    pub fn patched(&self, patch: &ScoreConfigPatch) -> Result<ScoreConfig, Error> {
        if patch.is_empty() {
            return Err(Error::invalid(
                "body",
                "at least one field must be given to update a score config",
            ));
        }
        let mut next = self.clone();
        if let Some(name) = &patch.name {
            check_name("name", name)?;
            next.name = name.clone();
        }
        if let Some(archived) = patch.is_archived {
            next.is_archived = archived;
        }
        if patch.min_value.is_some() {
            next.min_value = patch.min_value;
        }
        if patch.max_value.is_some() {
            next.max_value = patch.max_value;
        }
        if let Some(categories) = &patch.categories {
            next.categories = categories.clone();
        }
        if patch.description.is_some() {
            next.description = patch.description.clone();
        }
        Shape {
            data_type: next.data_type,
            min_value: next.min_value,
            max_value: next.max_value,
            categories: &next.categories,
        }
        .check()?;
        Ok(next)
    }

    /// The category of a label, or of a value.
    fn category_by_label(&self, label: &str) -> Option<&ConfigCategory> {
        self.categories
            .iter()
            .find(|category| category.label == label)
    }

    fn category_by_value(&self, value: f64) -> Option<&ConfigCategory> {
        self.categories
            .iter()
            .find(|category| category.value == value)
    }
}

/// A score value as the body gave it, before a config says what it means.
#[derive(Debug, Clone, PartialEq)]
pub enum GivenValue {
    Number(f64),
    Text(String),
}

/// What a config makes of a score: its name, data type, numeric value and string value.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfiguredScore {
    pub name: String,
    pub data_type: ScoreDataType,
    pub value: f64,
    pub string_value: Option<String>,
}

/// Checks a score that names `config` and works out what is stored, as Langfuse does: the
/// score takes the config's name and data type; a data type given by the body must be the
/// config's; the config must not be archived; a numeric value must lie in the config's range;
/// a categorical value must be one of its labels (stored with the category's value) or one of
/// its values (stored with the category's label); a boolean value is 0 or 1; a text value has
/// 1 to 500 characters. Errors name `data_type_field`, `value_field` or `config_field`.
pub fn configure_score(
    config: &ScoreConfig,
    given_data_type: Option<ScoreDataType>,
    value: &GivenValue,
    fields: ScoreFields<'_>,
) -> Result<ConfiguredScore, Error> {
    let expected = config.data_type.score_data_type();
    if let Some(given) = given_data_type.filter(|given| *given != expected) {
        return Err(Error::invalid(
            fields.data_type,
            format!(
                "{} does not match the data type {} of score config {:?}",
                given.as_str(),
                expected.as_str(),
                config.id
            ),
        ));
    }
    if config.is_archived {
        return Err(Error::invalid(
            fields.config_id,
            format!(
                "score config {:?} is archived and cannot be used for new scores",
                config.id
            ),
        ));
    }
    let value_field = fields.value;
    let (number, string_value) = match (config.data_type, value) {
        (ConfigDataType::Numeric, GivenValue::Number(number)) => {
            if let Some(min) = config.min_value.filter(|min| number < min) {
                return Err(Error::invalid(
                    value_field,
                    format!(
                        "{number} is below the minimum {min} of score config {:?}",
                        config.name
                    ),
                ));
            }
            if let Some(max) = config.max_value.filter(|max| number > max) {
                return Err(Error::invalid(
                    value_field,
                    format!(
                        "{number} is above the maximum {max} of score config {:?}",
                        config.name
                    ),
                ));
            }
            (*number, None)
        }
        (ConfigDataType::Categorical, GivenValue::Text(label)) => {
            let category = config
                .category_by_label(label)
                .ok_or_else(|| unknown_category(value_field, &format!("{label:?}"), config))?;
            (category.value, Some(category.label.clone()))
        }
        (ConfigDataType::Categorical, GivenValue::Number(number)) => {
            let category = config
                .category_by_value(*number)
                .ok_or_else(|| unknown_category(value_field, &number.to_string(), config))?;
            (category.value, Some(category.label.clone()))
        }
        (ConfigDataType::Boolean, GivenValue::Number(number))
            if *number == 0.0 || *number == 1.0 =>
        {
            let label = if *number == 1.0 { "True" } else { "False" };
            (*number, Some(label.to_owned()))
        }
        (ConfigDataType::Boolean, _) => {
            return Err(Error::invalid(
                value_field,
                format!(
                    "must be 0 or 1 for the BOOLEAN score config {:?}",
                    config.name
                ),
            ))
        }
        (ConfigDataType::Text, GivenValue::Text(text)) => {
            let length = text.chars().count();
            if length == 0 || length > TEXT_MAX_CHARS {
                return Err(Error::invalid(
                    value_field,
                    format!("must be 1 to {TEXT_MAX_CHARS} characters"),
                ));
            }
            (0.0, Some(text.clone()))
        }
        (ConfigDataType::Numeric, GivenValue::Text(_))
        | (ConfigDataType::Text, GivenValue::Number(_)) => {
            let expected_kind = if config.data_type == ConfigDataType::Numeric {
                "a number"
            } else {
                "a string"
            };
            return Err(Error::invalid(
                value_field,
                format!(
                    "must be {expected_kind} for the {} score config {:?}",
                    config.data_type.as_str(),
                    config.name
                ),
            ));
        }
    };
    Ok(ConfiguredScore {
        name: config.name.clone(),
        data_type: expected,
        value: number,
        string_value,
    })
}

/// The paths of a score body's fields that [`configure_score`] names in its errors.
#[derive(Debug, Clone, Copy)]
pub struct ScoreFields<'a> {
    pub config_id: &'a str,
    pub data_type: &'a str,
    pub value: &'a str,
}

fn unknown_category(value_field: &str, given: &str, config: &ScoreConfig) -> Error {
    let labels: Vec<String> = config
        .categories
        .iter()
        .map(|category| format!("{:?} ({})", category.label, category.value))
        .collect();
    Error::invalid(
        value_field,
        format!(
            "{given} is not a category of score config {:?}; expected one of {}",
            config.name,
            labels.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests;
