//! Enumerations of the domain: observation types, levels, score data types and sources.

use std::fmt;

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The upper-case wire and storage spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the wire spelling, case-insensitively.
            pub fn parse(text: &str) -> Option<Self> {
                $(if text.eq_ignore_ascii_case($text) { return Some($name::$variant); })+
                None
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// The kind of step an observation records.
    ObservationType {
        Span => "SPAN",
        Generation => "GENERATION",
        Event => "EVENT",
        Agent => "AGENT",
        Tool => "TOOL",
        Chain => "CHAIN",
        Retriever => "RETRIEVER",
        Embedding => "EMBEDDING",
        Evaluator => "EVALUATOR",
        Guardrail => "GUARDRAIL",
    }
);

impl ObservationType {
    /// Generation-like types carry a model, usage and cost.
    pub fn is_generation_like(self) -> bool {
        matches!(
            self,
            ObservationType::Generation | ObservationType::Embedding
        )
    }
}

string_enum!(
    /// Severity of an observation; ordered from least to most severe.
    Level {
        Debug => "DEBUG",
        Default => "DEFAULT",
        Warning => "WARNING",
        Error => "ERROR",
    }
);

impl Level {
    /// Parses a level with the aliases OpenTelemetry sources use (INFO, WARN, FATAL, ...).
    pub fn parse_lenient(text: &str) -> Option<Self> {
        if let Some(level) = Level::parse(text) {
            return Some(level);
        }
        let upper = text.trim().to_ascii_uppercase();
        match upper.as_str() {
            "TRACE" | "VERBOSE" => Some(Level::Debug),
            "INFO" | "LOG" | "NOTICE" | "OK" | "SUCCESS" => Some(Level::Default),
            "WARN" => Some(Level::Warning),
            "FATAL" | "CRITICAL" => Some(Level::Error),
            _ => None,
        }
    }
}

string_enum!(
    /// The type of a score's value.
    ScoreDataType {
        Numeric => "NUMERIC",
        Categorical => "CATEGORICAL",
        Boolean => "BOOLEAN",
        Correction => "CORRECTION",
        Text => "TEXT",
    }
);

string_enum!(
    /// Who produced a score.
    ScoreSource {
        Api => "API",
        Eval => "EVAL",
        Annotation => "ANNOTATION",
    }
);

/// Normalizes an environment name as Langfuse does: lower-case, without a leading `langfuse`
/// prefix, at most 40 characters of `[a-z0-9_-]`; anything else becomes `default`.
pub fn normalize_environment(raw: Option<&str>) -> String {
    let Some(raw) = raw else {
        return "default".to_owned();
    };
    let lower = raw.trim().to_ascii_lowercase();
    let mut rest = lower.as_str();
    if let Some(stripped) = rest.strip_prefix("langfuse") {
        rest = stripped
            .strip_prefix('-')
            .or_else(|| stripped.strip_prefix('_'))
            .unwrap_or(stripped);
    }
    let truncated: String = rest.chars().take(40).collect();
    let valid = !truncated.is_empty()
        && truncated
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if valid {
        truncated
    } else {
        "default".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_normalization() {
        let cases = [
            (None, "default"),
            (Some("staging"), "staging"),
            (Some("Production"), "production"),
            (Some("langfuse-prod"), "prod"),
            (Some("langfuse_x"), "x"),
            (Some("langfuse"), "default"),
            (Some("has space"), "default"),
            (Some(""), "default"),
        ];
        for (raw, expected) in cases {
            assert_eq!(normalize_environment(raw), expected, "{raw:?}");
        }
        let long = "a".repeat(60);
        assert_eq!(normalize_environment(Some(&long)).len(), 40);
    }

    #[test]
    fn level_aliases() {
        assert_eq!(Level::parse_lenient("warn"), Some(Level::Warning));
        assert_eq!(Level::parse_lenient("INFO"), Some(Level::Default));
        assert_eq!(Level::parse_lenient("Fatal"), Some(Level::Error));
        assert_eq!(Level::parse_lenient("nope"), None);
        assert!(Level::Error > Level::Warning && Level::Warning > Level::Default);
    }

    #[test]
    fn types_round_trip() {
        for ty in ObservationType::ALL {
            assert_eq!(
                ObservationType::parse(&ty.as_str().to_lowercase()),
                Some(*ty)
            );
        }
    }
}
