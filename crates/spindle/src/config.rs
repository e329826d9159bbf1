//! Client configuration: a builder and the `LANGFUSE_*` environment variables, validated once.

use std::collections::HashMap;
use std::time::Duration;

use crate::client::Client;

/// Largest accepted export queue (the queue's slots are allocated up front).
const MAX_QUEUE_SIZE: usize = 1_000_000;

/// Default base URL when neither the builder nor the environment sets one.
const DEFAULT_BASE_URL: &str = "https://cloud.langfuse.com";

/// A configuration value that stops the client from starting.
///
/// ```
/// let error = spindle::Client::builder().build().unwrap_err();
/// assert_eq!(error.to_string(), "LANGFUSE_PUBLIC_KEY: missing");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required setting is absent.
    #[error("{variable}: missing")]
    Missing {
        /// The environment variable (or builder setting) that is missing.
        variable: &'static str,
    },
    /// A setting has a value the SDK cannot use.
    #[error("{variable}: {reason} (got {value:?})")]
    InvalidValue {
        /// The environment variable (or builder setting) at fault.
        variable: &'static str,
        /// The rejected value.
        value: String,
        /// Why it was rejected.
        reason: &'static str,
    },
}

/// Validated settings shared by the client and its exporter.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) public_key: String,
    pub(crate) secret_key: String,
    pub(crate) base_url: String,
    pub(crate) flush_at: usize,
    pub(crate) flush_interval: Duration,
    pub(crate) environment: Option<String>,
    pub(crate) release: Option<String>,
    pub(crate) sample_rate: f64,
    pub(crate) timeout: Duration,
    pub(crate) max_queue_size: usize,
    pub(crate) max_attempts: u32,
    pub(crate) retry_initial_backoff: Duration,
    pub(crate) gzip: bool,
    pub(crate) service_name: String,
    pub(crate) prompt_cache_ttl: Duration,
    pub(crate) prompt_cache_max_entries: usize,
}

/// Builds a [`Client`]; every setting has a `LANGFUSE_*` environment variable read by
/// [`ClientBuilder::from_env`].
///
/// ```
/// let client = spindle::Client::builder()
///     .public_key("pk-lf-test")
///     .secret_key("sk-lf-test")
///     .base_url("http://127.0.0.1:3000")
///     .environment("staging")
///     .flush_at(100)
///     .build()
///     .unwrap();
/// assert!(client.is_enabled());
/// client.shutdown();
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ClientBuilder {
    public_key: Option<String>,
    secret_key: Option<String>,
    base_url: Option<String>,
    flush_at: usize,
    flush_interval: Duration,
    environment: Option<String>,
    release: Option<String>,
    sample_rate: f64,
    tracing_enabled: bool,
    timeout: Duration,
    max_queue_size: usize,
    max_attempts: u32,
    retry_initial_backoff: Duration,
    gzip: bool,
    service_name: String,
    prompt_cache_ttl: Duration,
    prompt_cache_max_entries: usize,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            public_key: None,
            secret_key: None,
            base_url: None,
            flush_at: 512,
            flush_interval: Duration::from_secs(5),
            environment: None,
            release: None,
            sample_rate: 1.0,
            tracing_enabled: true,
            timeout: Duration::from_secs(5),
            max_queue_size: 200_000,
            max_attempts: 6,
            retry_initial_backoff: Duration::from_millis(500),
            gzip: true,
            service_name: "unknown_service:rust".to_owned(),
            prompt_cache_ttl: Duration::from_secs(60),
            prompt_cache_max_entries: 1000,
        }
    }
}

fn parse_number<T: std::str::FromStr>(
    variable: &'static str,
    value: &str,
) -> Result<T, ConfigError> {
    value
        .trim()
        .parse::<T>()
        .map_err(|_| ConfigError::InvalidValue {
            variable,
            value: value.to_owned(),
            reason: "not a number",
        })
}

/// Reads `value` of `variable` as a non-negative number of seconds.
fn parse_seconds(variable: &'static str, value: &str) -> Result<Duration, ConfigError> {
    let seconds: f64 = parse_number(variable, value)?;
    Duration::try_from_secs_f64(seconds).map_err(|_| ConfigError::InvalidValue {
        variable,
        value: value.to_owned(),
        reason: "not a non-negative number of seconds",
    })
}

impl ClientBuilder {
    /// Starts from the defaults (flush at 512 observations or every 5 s, 5 s timeout, gzip on).
    ///
    /// ```
    /// let builder = spindle::ClientBuilder::new();
    /// assert!(builder.build().is_err()); // keys are required
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts from the process environment; see [`ClientBuilder::from_env_vars`].
    ///
    /// ```
    /// let _builder = spindle::ClientBuilder::from_env();
    /// ```
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_vars(std::env::vars())
    }

    /// Starts from the given environment: `LANGFUSE_PUBLIC_KEY`, `LANGFUSE_SECRET_KEY`,
    /// `LANGFUSE_BASE_URL` (or `LANGFUSE_HOST`), `LANGFUSE_FLUSH_AT`, `LANGFUSE_FLUSH_INTERVAL`
    /// (seconds), `LANGFUSE_TRACING_ENVIRONMENT`, `LANGFUSE_RELEASE`, `LANGFUSE_SAMPLE_RATE`,
    /// `LANGFUSE_TRACING_ENABLED`, `LANGFUSE_TIMEOUT` (seconds), `LANGFUSE_OTEL_COMPRESSION`
    /// (`gzip` or `none`), `LANGFUSE_PROMPT_CACHE_DEFAULT_TTL_SECONDS` and `OTEL_SERVICE_NAME`.
    /// A bad value is an error naming the variable.
    ///
    /// ```
    /// let vars = [("LANGFUSE_FLUSH_AT", "many")];
    /// let error = spindle::ClientBuilder::from_env_vars(vars).unwrap_err();
    /// assert!(error.to_string().starts_with("LANGFUSE_FLUSH_AT"));
    /// ```
    pub fn from_env_vars<K, V>(vars: impl IntoIterator<Item = (K, V)>) -> Result<Self, ConfigError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let vars: HashMap<String, String> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let get = |name: &str| {
            vars.get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut builder = Self {
            public_key: get("LANGFUSE_PUBLIC_KEY"),
            secret_key: get("LANGFUSE_SECRET_KEY"),
            base_url: get("LANGFUSE_BASE_URL").or_else(|| get("LANGFUSE_HOST")),
            ..Self::default()
        };
        if let Some(value) = get("LANGFUSE_FLUSH_AT") {
            builder.flush_at = parse_number("LANGFUSE_FLUSH_AT", &value)?;
        }
        if let Some(value) = get("LANGFUSE_FLUSH_INTERVAL") {
            builder.flush_interval = parse_seconds("LANGFUSE_FLUSH_INTERVAL", &value)?;
        }
        builder.environment = get("LANGFUSE_TRACING_ENVIRONMENT");
        builder.release = get("LANGFUSE_RELEASE");
        if let Some(value) = get("LANGFUSE_SAMPLE_RATE") {
            builder.sample_rate = parse_number("LANGFUSE_SAMPLE_RATE", &value)?;
        }
        if let Some(value) = get("LANGFUSE_TRACING_ENABLED") {
            builder.tracing_enabled = !value.eq_ignore_ascii_case("false");
        }
        if let Some(value) = get("LANGFUSE_TIMEOUT") {
            builder.timeout = parse_seconds("LANGFUSE_TIMEOUT", &value)?;
        }
        if let Some(value) = get("LANGFUSE_OTEL_COMPRESSION") {
            builder.gzip = match value.to_ascii_lowercase().as_str() {
                "gzip" => true,
                "none" => false,
                _ => {
                    return Err(ConfigError::InvalidValue {
                        variable: "LANGFUSE_OTEL_COMPRESSION",
                        value,
                        reason: "expected gzip or none",
                    })
                }
            };
        }
        if let Some(value) = get("LANGFUSE_PROMPT_CACHE_DEFAULT_TTL_SECONDS") {
            builder.prompt_cache_ttl =
                parse_seconds("LANGFUSE_PROMPT_CACHE_DEFAULT_TTL_SECONDS", &value)?;
        }
        if let Some(value) = get("OTEL_SERVICE_NAME") {
            builder.service_name = value;
        }
        Ok(builder)
    }

    setters! {
        /// Sets the project's public key (`LANGFUSE_PUBLIC_KEY`).
        ///
        /// ```
        /// let _builder = spindle::Client::builder().public_key("pk-lf-test");
        /// ```
        public_key(public_key: impl Into<String>) => public_key = Some(public_key.into());

        /// Sets the project's secret key (`LANGFUSE_SECRET_KEY`).
        ///
        /// ```
        /// let _builder = spindle::Client::builder().secret_key("sk-lf-test");
        /// ```
        secret_key(secret_key: impl Into<String>) => secret_key = Some(secret_key.into());

        /// Sets the server's base URL (`LANGFUSE_BASE_URL` or `LANGFUSE_HOST`).
        ///
        /// ```
        /// let _builder = spindle::Client::builder().base_url("http://127.0.0.1:3000");
        /// ```
        base_url(base_url: impl Into<String>) => base_url = Some(base_url.into());

        /// Sends a batch once this many observations are queued (`LANGFUSE_FLUSH_AT`, default 512).
        ///
        /// ```
        /// let _builder = spindle::Client::builder().flush_at(64);
        /// ```
        flush_at(flush_at: usize) => flush_at = flush_at;

        /// Sends what is queued at least this often (`LANGFUSE_FLUSH_INTERVAL`, default 5 s).
        ///
        /// ```
        /// let _builder = spindle::Client::builder().flush_interval(std::time::Duration::from_secs(1));
        /// ```
        flush_interval(flush_interval: Duration) => flush_interval = flush_interval;

        /// Sets the tracing environment (`LANGFUSE_TRACING_ENVIRONMENT`): lowercase letters, digits,
        /// `-` and `_`, at most 40 characters, not starting with `langfuse`.
        ///
        /// ```
        /// assert!(spindle::Client::builder().public_key("p").secret_key("s")
        ///     .environment("Prod!").build().is_err());
        /// ```
        environment(environment: impl Into<String>) => environment = Some(environment.into());

        /// Sets the release, sent on the resource and on every observation (`LANGFUSE_RELEASE`).
        ///
        /// ```
        /// let _builder = spindle::Client::builder().release("rel-1.2.3");
        /// ```
        release(release: impl Into<String>) => release = Some(release.into());

        /// Keeps this fraction of traces, decided per trace id (`LANGFUSE_SAMPLE_RATE`, 0 to 1).
        ///
        /// ```
        /// let _builder = spindle::Client::builder().sample_rate(0.25);
        /// ```
        sample_rate(sample_rate: f64) => sample_rate = sample_rate;

        /// Turns tracing off entirely when `false` (`LANGFUSE_TRACING_ENABLED`); the built client
        /// is then a no-op and keys are not required.
        ///
        /// ```
        /// let client = spindle::Client::builder().tracing_enabled(false).build().unwrap();
        /// assert!(!client.is_enabled());
        /// ```
        tracing_enabled(tracing_enabled: bool) => tracing_enabled = tracing_enabled;

        /// Sets the timeout of one HTTP request (`LANGFUSE_TIMEOUT`, default 5 s).
        ///
        /// ```
        /// let _builder = spindle::Client::builder().timeout(std::time::Duration::from_secs(10));
        /// ```
        timeout(timeout: Duration) => timeout = timeout;

        /// Bounds the export queue (default 200,000 items, at most 1,000,000); when it is full new
        /// observations are dropped, counted and logged, never blocking the caller.
        ///
        /// ```
        /// let _builder = spindle::Client::builder().max_queue_size(10_000);
        /// ```
        max_queue_size(max_queue_size: usize) => max_queue_size = max_queue_size;

        /// Sets how many times one batch is tried on 429, 502, 503, 504 and transport errors
        /// (default 6).
        ///
        /// ```
        /// let _builder = spindle::Client::builder().max_attempts(3);
        /// ```
        max_attempts(max_attempts: u32) => max_attempts = max_attempts;

        /// Sets the first retry delay, doubled at each retry up to 8 s, unless the server sends
        /// `Retry-After` (default 500 ms).
        ///
        /// ```
        /// let _builder = spindle::Client::builder()
        ///     .retry_initial_backoff(std::time::Duration::from_millis(50));
        /// ```
        retry_initial_backoff(backoff: Duration) => retry_initial_backoff = backoff;

        /// Gzips export bodies when `true` (the default, as Python 5 does).
        ///
        /// ```
        /// let _builder = spindle::Client::builder().gzip(false);
        /// ```
        gzip(gzip: bool) => gzip = gzip;

        /// Sets how long a fetched prompt is served from the cache before it is refreshed
        /// (`LANGFUSE_PROMPT_CACHE_DEFAULT_TTL_SECONDS`, default 60 s, zero turns the cache off);
        /// [`GetPrompt::cache_ttl`](crate::GetPrompt::cache_ttl) overrides it per fetch.
        ///
        /// ```
        /// let _builder = spindle::Client::builder().prompt_cache_ttl(std::time::Duration::from_secs(300));
        /// ```
        prompt_cache_ttl(ttl: Duration) => prompt_cache_ttl = ttl;

        /// Sets how many prompts (per name and version or label) the cache holds at most
        /// (default 1000); past it the least recently used is dropped.
        ///
        /// ```
        /// let _builder = spindle::Client::builder().prompt_cache_max_entries(100);
        /// ```
        prompt_cache_max_entries(max_entries: usize) => prompt_cache_max_entries = max_entries;

        /// Sets the `service.name` resource attribute (`OTEL_SERVICE_NAME`).
        ///
        /// ```
        /// let _builder = spindle::Client::builder().service_name("support-bot");
        /// ```
        service_name(service_name: impl Into<String>) => service_name = service_name.into();
    }

    pub(crate) fn validate(self) -> Result<Option<Config>, ConfigError> {
        if !self.tracing_enabled {
            return Ok(None);
        }
        let public_key = self.public_key.ok_or(ConfigError::Missing {
            variable: "LANGFUSE_PUBLIC_KEY",
        })?;
        let secret_key = self.secret_key.ok_or(ConfigError::Missing {
            variable: "LANGFUSE_SECRET_KEY",
        })?;
        let base_url = self.base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(ConfigError::InvalidValue {
                variable: "LANGFUSE_BASE_URL",
                value: base_url,
                reason: "expected an http:// or https:// url",
            });
        }
        if let Some(environment) = &self.environment {
            if !crate::propagation::is_valid_environment(environment) {
                return Err(ConfigError::InvalidValue {
                    variable: "LANGFUSE_TRACING_ENVIRONMENT",
                    value: environment.clone(),
                    reason: "expected at most 40 of [a-z0-9_-], not starting with langfuse",
                });
            }
        }
        if !(0.0..=1.0).contains(&self.sample_rate) {
            return Err(ConfigError::InvalidValue {
                variable: "LANGFUSE_SAMPLE_RATE",
                value: self.sample_rate.to_string(),
                reason: "expected a number between 0 and 1",
            });
        }
        if self.flush_at == 0 {
            return Err(ConfigError::InvalidValue {
                variable: "LANGFUSE_FLUSH_AT",
                value: "0".to_owned(),
                reason: "expected at least 1",
            });
        }
        Ok(Some(Config {
            public_key,
            secret_key,
            base_url: base_url.trim_end_matches('/').to_owned(),
            flush_at: self.flush_at,
            flush_interval: self.flush_interval.max(Duration::from_millis(1)),
            environment: self.environment,
            release: self.release,
            sample_rate: self.sample_rate,
            timeout: self.timeout,
            max_queue_size: self.max_queue_size.clamp(1, MAX_QUEUE_SIZE),
            max_attempts: self.max_attempts.max(1),
            retry_initial_backoff: self.retry_initial_backoff,
            gzip: self.gzip,
            service_name: self.service_name,
            prompt_cache_ttl: self.prompt_cache_ttl,
            prompt_cache_max_entries: self.prompt_cache_max_entries.max(1),
        }))
    }

    /// Validates the settings and starts the client (and its background exporter thread).
    ///
    /// ```
    /// let client = spindle::Client::builder()
    ///     .public_key("pk-lf-test")
    ///     .secret_key("sk-lf-test")
    ///     .build()
    ///     .unwrap();
    /// client.shutdown();
    /// ```
    pub fn build(self) -> Result<Client, ConfigError> {
        Ok(match self.validate()? {
            Some(config) => Client::start(config),
            None => Client::disabled(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_error(vars: &[(&str, &str)], expected_start: &str) {
        let result = ClientBuilder::from_env_vars(vars.iter().copied()).and_then(|b| b.validate());
        let error = result.expect_err("configuration should be rejected");
        assert!(error.to_string().starts_with(expected_start), "{error}");
    }

    #[test]
    fn env_errors_name_the_variable() {
        check_error(&[], "LANGFUSE_PUBLIC_KEY");
        check_error(&[("LANGFUSE_PUBLIC_KEY", "p")], "LANGFUSE_SECRET_KEY");
        check_error(
            &[
                ("LANGFUSE_PUBLIC_KEY", "p"),
                ("LANGFUSE_SECRET_KEY", "s"),
                ("LANGFUSE_SAMPLE_RATE", "2"),
            ],
            "LANGFUSE_SAMPLE_RATE",
        );
        check_error(&[("LANGFUSE_TIMEOUT", "x")], "LANGFUSE_TIMEOUT");
        check_error(
            &[("LANGFUSE_FLUSH_INTERVAL", "-1")],
            "LANGFUSE_FLUSH_INTERVAL",
        );
        check_error(
            &[
                ("LANGFUSE_PUBLIC_KEY", "p"),
                ("LANGFUSE_SECRET_KEY", "s"),
                ("LANGFUSE_BASE_URL", "ftp://x"),
            ],
            "LANGFUSE_BASE_URL",
        );
    }

    #[test]
    fn env_values_are_read() {
        let vars = [
            ("LANGFUSE_PUBLIC_KEY", "pk"),
            ("LANGFUSE_SECRET_KEY", "sk"),
            ("LANGFUSE_HOST", "http://localhost:3000/"),
            ("LANGFUSE_FLUSH_AT", "10"),
            ("LANGFUSE_FLUSH_INTERVAL", "0.5"),
            ("LANGFUSE_TRACING_ENVIRONMENT", "staging"),
            ("LANGFUSE_RELEASE", "r1"),
            ("LANGFUSE_SAMPLE_RATE", "0.5"),
            ("LANGFUSE_TIMEOUT", "2"),
        ];
        let config = ClientBuilder::from_env_vars(vars)
            .unwrap()
            .validate()
            .unwrap()
            .unwrap();
        assert_eq!(config.base_url, "http://localhost:3000");
        assert_eq!(config.flush_at, 10);
        assert_eq!(config.flush_interval, Duration::from_millis(500));
        assert_eq!(config.environment.as_deref(), Some("staging"));
        assert_eq!(config.release.as_deref(), Some("r1"));
        assert_eq!(config.sample_rate, 0.5);
        assert_eq!(config.timeout, Duration::from_secs(2));
    }

    #[test]
    fn tracing_disabled_needs_no_keys() {
        let vars = [("LANGFUSE_TRACING_ENABLED", "false")];
        assert!(ClientBuilder::from_env_vars(vars)
            .unwrap()
            .validate()
            .unwrap()
            .is_none());
    }
}
