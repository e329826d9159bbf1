//! Query-string parsing for the read endpoints, with errors that name the parameter, and the
//! one parser of list parameters into store queries that the public API and the UI API share.

use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde_json::Value;
use spindle_core::prompt::{check_label, PromptSelector};
use spindle_core::review::ItemStatus;
use spindle_core::time::{parse_iso, Micros};
use spindle_core::{Error, Level, ObservationType, ScoreDataType, ScoreSource};
use spindle_store::datasets::{DatasetItemQuery, PageRequest};
use spindle_store::metrics::{
    Aggregation, Granularity, MetricSelection, MetricsOrder, MetricsRequest, MetricsVersion,
    MetricsView,
};
use spindle_store::people::{ScoreFilter, TotalsBound, TotalsColumn, TotalsQuery};
use spindle_store::prompts::PromptQuery;
use spindle_store::reviews::CommentQuery;
use spindle_store::{
    Direction, Filter, FilterValue, MetricsQuery, ObservationQuery, OrderBy, ScoreQuery,
    ScoreRange, SessionQuery, TraceQuery,
};

/// Why a value with a NUL character is refused.
const NUL_REFUSED: &str = "must not contain a NUL character";

/// The query string as key/value pairs; keys may repeat (`tags=a&tags=b`). As an extractor
/// it fails with 400 on a malformed query string.
pub struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Params::parse(parts.uri.query())?)
    }
}

impl Params {
    pub fn parse(raw: Option<&str>) -> Result<Self, Error> {
        let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(raw.unwrap_or_default())
            .map_err(|error| Error::invalid("query", format!("malformed query string: {error}")))?;
        // SQLite's LIKE stops at a NUL (a search for "\0" would match everything) and
        // PostgreSQL's text cannot hold one: no parameter may carry it.
        if let Some((key, _)) = pairs
            .iter()
            .find(|(key, value)| key.contains('\0') || value.contains('\0'))
        {
            return Err(Error::invalid(key.replace('\0', ""), NUL_REFUSED));
        }
        Ok(Params(pairs))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(candidate, _)| candidate == key)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty())
    }

    pub fn string(&self, key: &str) -> Option<String> {
        self.get(key).map(str::to_owned)
    }

    /// Every value of a repeatable parameter (also accepting `key[]` and comma lists).
    pub fn all(&self, key: &str) -> Vec<String> {
        let bracketed = format!("{key}[]");
        self.0
            .iter()
            .filter(|(candidate, _)| *candidate == key || *candidate == bracketed)
            .flat_map(|(_, value)| value.split(','))
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
            .collect()
    }

    /// Every value of a repeated parameter, one per occurrence and as given (a value may hold
    /// commas), empty ones left out.
    pub fn each(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(candidate, value)| candidate == key && !value.is_empty())
            .map(|(_, value)| value.clone())
            .collect()
    }

    pub fn page(&self) -> Result<u32, Error> {
        match self.get("page") {
            None => Ok(1),
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|page| *page >= 1)
                .ok_or_else(|| Error::invalid("page", "must be a whole number of at least 1")),
        }
    }

    pub fn limit(&self, max: u32) -> Result<u32, Error> {
        match self.get("limit") {
            None => Ok(50),
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|limit| (1..=max).contains(limit))
                .ok_or_else(|| Error::invalid("limit", format!("must be between 1 and {max}"))),
        }
    }

    pub fn timestamp(&self, key: &str) -> Result<Option<Micros>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(text) => parse_iso(text)
                .map(Some)
                .ok_or_else(|| Error::invalid(key, "not an ISO-8601 timestamp")),
        }
    }

    pub fn boolean(&self, key: &str) -> Result<Option<bool>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(Error::invalid(key, "must be true or false")),
        }
    }

    pub fn parsed<T>(
        &self,
        key: &str,
        parse: impl Fn(&str) -> Option<T>,
        expected: &str,
    ) -> Result<Option<T>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(text) => parse(text)
                .map(Some)
                .ok_or_else(|| Error::invalid(key, format!("expected {expected}"))),
        }
    }

    /// `orderBy=<column>.<asc|desc>`.
    pub fn order_by(&self) -> Result<Option<OrderBy>, Error> {
        let Some(text) = self.get("orderBy") else {
            return Ok(None);
        };
        let (column, direction) = text.rsplit_once('.').unwrap_or((text, "desc"));
        let direction = match direction.to_ascii_lowercase().as_str() {
            "asc" => Direction::Asc,
            "desc" => Direction::Desc,
            _ => {
                return Err(Error::invalid(
                    "orderBy",
                    "expected <column>.asc or <column>.desc",
                ))
            }
        };
        Ok(Some(OrderBy {
            column: column.to_owned(),
            direction,
        }))
    }

    /// The advanced `filter` parameter: a JSON array of conditions.
    pub fn filters(&self) -> Result<Vec<Filter>, Error> {
        match self.get("filter") {
            None => Ok(Vec::new()),
            Some(text) => parse_filters(text),
        }
    }
}

/// Parses `[{type, column, operator, value, key?}, ...]`.
pub fn parse_filters(text: &str) -> Result<Vec<Filter>, Error> {
    let value: Value = serde_json::from_str(text)
        .map_err(|error| Error::invalid("filter", format!("invalid JSON: {error}")))?;
    let Value::Array(items) = value else {
        return Err(Error::invalid(
            "filter",
            "expected a JSON array of conditions",
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| parse_filter(item, format!("filter[{index}]")))
        .collect()
}

/// Parses one condition; errors name its fields under `path` (`filter[2]`).
fn parse_filter(item: &Value, path: String) -> Result<Filter, Error> {
    let object = item
        .as_object()
        .ok_or_else(|| Error::invalid(&path, "expected an object"))?;
    let text_field = |key: &str| -> Result<String, Error> {
        object
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::invalid(format!("{path}.{key}"), "is required and must be a string")
            })
    };
    let filter_type = text_field("type")?;
    let column = text_field("column")?;
    let operator = text_field("operator")?;
    let key = object.get("key").and_then(Value::as_str).map(str::to_owned);
    let raw = object.get("value").unwrap_or(&Value::Null);
    let value_field = format!("{path}.value");
    let value = match filter_type.as_str() {
        "datetime" => FilterValue::Datetime(
            raw.as_str()
                .and_then(parse_iso)
                .ok_or_else(|| Error::invalid(&value_field, "expected an ISO-8601 timestamp"))?,
        ),
        "number" | "numberObject" => FilterValue::Number(
            raw.as_f64()
                .or_else(|| raw.as_str().and_then(|text| text.parse().ok()))
                .ok_or_else(|| Error::invalid(&value_field, "expected a number"))?,
        ),
        "string" | "stringObject" => FilterValue::String(
            raw.as_str()
                .map(str::to_owned)
                .ok_or_else(|| Error::invalid(&value_field, "expected a string"))?,
        ),
        "boolean" | "booleanObject" => FilterValue::Boolean(
            raw.as_bool()
                .ok_or_else(|| Error::invalid(&value_field, "expected a boolean"))?,
        ),
        "stringOptions" | "arrayOptions" | "categoryOptions" => FilterValue::Strings(
            raw.as_array()
                .ok_or_else(|| Error::invalid(&value_field, "expected an array of strings"))?
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| Error::invalid(&value_field, "expected an array of strings"))?,
        ),
        "null" => FilterValue::Null,
        other => {
            return Err(Error::invalid(
                format!("{path}.type"),
                format!("unknown filter type {other:?}"),
            ))
        }
    };
    let texts: Vec<(&str, &str)> = [
        ("column", column.as_str()),
        ("operator", operator.as_str()),
        ("key", key.as_deref().unwrap_or("")),
    ]
    .into_iter()
    .chain(match &value {
        FilterValue::String(text) => vec![("value", text.as_str())],
        FilterValue::Strings(texts) => texts.iter().map(|text| ("value", text.as_str())).collect(),
        _ => Vec::new(),
    })
    .collect();
    if let Some((field, _)) = texts.iter().find(|(_, text)| text.contains('\0')) {
        return Err(Error::invalid(format!("{path}.{field}"), NUL_REFUSED));
    }
    if filter_type.ends_with("Object") && key.is_none() {
        return Err(Error::invalid(
            format!("{path}.key"),
            "is required for object filters",
        ));
    }
    Ok(Filter {
        column,
        operator,
        value,
        key,
    })
}

// --- the metrics API's `query` ------------------------------------------------------------------

/// Parses the `query` parameter of `GET /api/public/metrics` and `/api/public/v2/metrics`: a
/// JSON object whose names the store checks against the view (see `spindle_store::metrics`).
pub fn metrics_request(params: &Params, version: MetricsVersion) -> Result<MetricsRequest, Error> {
    let text = params
        .get("query")
        .ok_or_else(|| Error::invalid("query", "is required: a JSON object"))?;
    let value: Value = serde_json::from_str(text)
        .map_err(|error| Error::invalid("query", format!("Invalid request data: {error}")))?;
    let object = value
        .as_object()
        .ok_or_else(|| Error::invalid("query", "Invalid request data: expected a JSON object"))?;
    let present = |key: &str| object.get(key).filter(|value| !value.is_null());
    let string_at = |value: Option<&Value>, path: &str| -> Result<String, Error> {
        value
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| Error::invalid(path, "Invalid request data: expected a string"))
    };
    let array_at = |key: &str| -> Result<Vec<Value>, Error> {
        match present(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items.clone()),
            Some(_) => Err(Error::invalid(
                format!("query.{key}"),
                "Invalid request data: expected an array",
            )),
        }
    };
    let one_of = |path: &str, text: &str, names: Vec<&str>| {
        Error::invalid(
            path,
            format!(
                "Invalid request data: unknown value {text:?} (expected one of {})",
                names.join(", ")
            ),
        )
    };

    let view_text = string_at(present("view"), "query.view")?;
    let view = MetricsView::parse(&view_text).ok_or_else(|| {
        one_of(
            "query.view",
            &view_text,
            MetricsView::ALL.iter().map(|view| view.name()).collect(),
        )
    })?;
    let dimensions = array_at("dimensions")?
        .iter()
        .enumerate()
        .map(|(index, item)| {
            string_at(
                item.get("field"),
                &format!("query.dimensions[{index}].field"),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    if present("metrics").is_none() {
        return Err(Error::invalid(
            "query.metrics",
            "Invalid request data: is required",
        ));
    }
    let metrics = array_at("metrics")?
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let measure = string_at(
                item.get("measure"),
                &format!("query.metrics[{index}].measure"),
            )?;
            let path = format!("query.metrics[{index}].aggregation");
            let text = string_at(item.get("aggregation"), &path)?;
            let aggregation = Aggregation::parse(&text).ok_or_else(|| {
                one_of(
                    &path,
                    &text,
                    Aggregation::ALL.iter().map(|a| a.name()).collect(),
                )
            })?;
            Ok(MetricSelection {
                measure,
                aggregation,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let filters = array_at("filters")?
        .iter()
        .enumerate()
        .map(|(index, item)| parse_filter(item, format!("query.filters[{index}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let granularity = match present("timeDimension") {
        None => None,
        Some(time) => {
            let path = "query.timeDimension.granularity";
            let text = string_at(time.get("granularity"), path)?;
            Some(Granularity::parse(&text).ok_or_else(|| {
                one_of(
                    path,
                    &text,
                    Granularity::ALL.iter().map(|g| g.name()).collect(),
                )
            })?)
        }
    };
    let timestamp = |key: &str| -> Result<Micros, Error> {
        let path = format!("query.{key}");
        let text = string_at(present(key), &path)?;
        parse_iso(&text).ok_or_else(|| {
            Error::invalid(&path, "Invalid request data: expected an ISO-8601 datetime")
        })
    };
    let from = timestamp("fromTimestamp")?;
    let to = timestamp("toTimestamp")?;
    let order_by = array_at("orderBy")?
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let field = string_at(item.get("field"), &format!("query.orderBy[{index}].field"))?;
            let path = format!("query.orderBy[{index}].direction");
            let direction = match string_at(item.get("direction"), &path)?.as_str() {
                "asc" => Direction::Asc,
                "desc" => Direction::Desc,
                other => return Err(one_of(&path, other, vec!["asc", "desc"])),
            };
            Ok(MetricsOrder { field, direction })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let (mut bins, mut row_limit) = (None, None);
    if let Some(config) = present("config") {
        let whole = |key: &str| -> Result<Option<u32>, Error> {
            match config.get(key).filter(|value| !value.is_null()) {
                None => Ok(None),
                Some(value) => value
                    .as_u64()
                    .map(|number| Some(u32::try_from(number).unwrap_or(u32::MAX)))
                    .ok_or_else(|| {
                        Error::invalid(
                            format!("query.config.{key}"),
                            "Invalid request data: expected a positive whole number",
                        )
                    }),
            }
        };
        bins = whole("bins")?;
        row_limit = whole("row_limit")?;
    }
    Ok(MetricsRequest {
        version,
        view,
        dimensions,
        metrics,
        filters,
        granularity,
        from,
        to,
        order_by,
        bins,
        row_limit,
    })
}

// --- list parameters → store queries, shared by the public API and the UI API --------------------

/// The `page`/`limit` of the public API's lists: at most 100 per page.
pub const PUBLIC_MAX_LIMIT: u32 = 100;

/// The `page`/`limit` of the UI API's lists: at most 200 per page.
pub const UI_MAX_LIMIT: u32 = 200;

/// A condition that the `column` holds one of `values`.
/// The strings of a JSON array of body field `field`; an element that is not a string is a
/// 400 naming it (`field[3]`).
pub fn string_array(values: &[Value], field: &str) -> Result<Vec<String>, Error> {
    values
        .iter()
        .enumerate()
        .map(|(index, value)| {
            value
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| Error::invalid(format!("{field}[{index}]"), "expected a string"))
        })
        .collect()
}

pub fn any_of(column: &str, values: Vec<String>) -> Filter {
    Filter {
        column: column.to_owned(),
        operator: "any of".to_owned(),
        value: FilterValue::Strings(values),
        key: None,
    }
}

/// A condition comparing the numeric `column` with `number`.
pub fn compare(column: &str, operator: &str, number: f64) -> Filter {
    Filter {
        column: column.to_owned(),
        operator: operator.to_owned(),
        value: FilterValue::Number(number),
        key: None,
    }
}

/// The traces list: `userId`, `name`, `sessionId`, `version`, `release`, `tags`,
/// `environment`, `fromTimestamp`, `toTimestamp`, `orderBy`, `filter`, `search`.
pub fn trace_query(params: &Params, max_limit: u32) -> Result<TraceQuery, Error> {
    Ok(TraceQuery {
        page: params.page()?,
        limit: params.limit(max_limit)?,
        user_id: params.string("userId"),
        name: params.string("name"),
        session_id: params.string("sessionId"),
        version: params.string("version"),
        release: params.string("release"),
        tags: params.all("tags"),
        environments: params.all("environment"),
        from_timestamp: params.timestamp("fromTimestamp")?,
        to_timestamp: params.timestamp("toTimestamp")?,
        order_by: params.order_by()?,
        filters: params.filters()?,
        search: params.string("search"),
        score: None,
        has_comments: None,
    })
}

/// The observations list: `type`, `name`, `userId`, `sessionId`, `level`, `traceId`,
/// `version`, `parentObservationId`, `isRootObservation`, `environment`, `fromStartTime`,
/// `toStartTime`, `promptName`, `promptVersion` (the prompt a generation used), `filter`.
pub fn observation_query(params: &Params, max_limit: u32) -> Result<ObservationQuery, Error> {
    let mut filters = params.filters()?;
    if let Some(name) = params.string("promptName") {
        filters.push(any_of("promptName", vec![name]));
    }
    if let Some(version) = params.parsed(
        "promptVersion",
        |text| text.parse::<i64>().ok(),
        "an integer",
    )? {
        filters.push(compare("promptVersion", "=", version as f64));
    }
    Ok(ObservationQuery {
        page: params.page()?,
        limit: params.limit(max_limit)?,
        after: None,
        observation_type: params.parsed(
            "type",
            ObservationType::parse,
            "an observation type such as GENERATION",
        )?,
        name: params.string("name"),
        user_id: params.string("userId"),
        session_id: params.string("sessionId"),
        level: params.parsed(
            "level",
            Level::parse,
            "one of DEBUG, DEFAULT, WARNING, ERROR",
        )?,
        trace_id: params.string("traceId"),
        version: params.string("version"),
        parent_observation_id: params.string("parentObservationId"),
        is_root: params.boolean("isRootObservation")?,
        environments: params.all("environment"),
        from_start_time: params.timestamp("fromStartTime")?,
        to_start_time: params.timestamp("toStartTime")?,
        filters,
        order_by: None,
    })
}

/// The scores list (v1/v2): the subject, origin and time parameters, and `value` compared
/// with `operator` (`=` when absent).
pub fn score_query(params: &Params, max_limit: u32) -> Result<ScoreQuery, Error> {
    let value = match params.get("value") {
        None => None,
        Some(text) => {
            let number = text
                .parse::<f64>()
                .map_err(|_| Error::invalid("value", "expected a number"))?;
            let operator = params.get("operator").unwrap_or("=");
            if !["<", ">", "<=", ">=", "!=", "="].contains(&operator) {
                return Err(Error::invalid(
                    "operator",
                    "expected one of <, >, <=, >=, !=, =",
                ));
            }
            Some((operator.to_owned(), number))
        }
    };
    Ok(ScoreQuery {
        page: params.page()?,
        limit: params.limit(max_limit)?,
        user_id: params.string("userId"),
        name: params.string("name"),
        data_type: params.parsed(
            "dataType",
            ScoreDataType::parse,
            "one of NUMERIC, CATEGORICAL, BOOLEAN, CORRECTION, TEXT",
        )?,
        source: params.parsed("source", ScoreSource::parse, "one of API, EVAL, ANNOTATION")?,
        config_id: params.string("configId"),
        queue_id: params.string("queueId"),
        trace_tags: params.all("traceTags"),
        environments: params.all("environment"),
        from_timestamp: params.timestamp("fromTimestamp")?,
        to_timestamp: params.timestamp("toTimestamp")?,
        value,
        score_ids: params.all("scoreIds"),
        session_id: params.string("sessionId"),
        trace_id: params.string("traceId"),
        observation_ids: params.all("observationId"),
        dataset_run_id: params.string("datasetRunId"),
        filters: params.filters()?,
        order_by: None,
    })
}

/// The v3 scores list: comma lists of ids, names, origins and subjects (`experimentId` for
/// the dataset run), `valueMin`/`valueMax` for one NUMERIC `dataType`, `value` typed by
/// one `dataType`, and the time range.
pub fn score_v3_query(params: &Params, page: u32, limit: u32) -> Result<ScoreQuery, Error> {
    let mut filters = Vec::new();
    let mut any_of_parameter = |parameter: &str, column: &str, upper: bool| {
        let values: Vec<String> = params
            .all(parameter)
            .into_iter()
            .map(|value| {
                if upper {
                    value.to_ascii_uppercase()
                } else {
                    value
                }
            })
            .collect();
        if !values.is_empty() {
            filters.push(any_of(column, values));
        }
    };
    any_of_parameter("id", "id", false);
    any_of_parameter("name", "name", false);
    any_of_parameter("source", "source", true);
    any_of_parameter("dataType", "dataType", true);
    any_of_parameter("environment", "environment", false);
    any_of_parameter("configId", "configId", false);
    any_of_parameter("queueId", "queueId", false);
    any_of_parameter("authorUserId", "authorUserId", false);
    any_of_parameter("traceId", "traceId", false);
    any_of_parameter("sessionId", "sessionId", false);
    any_of_parameter("observationId", "observationId", false);
    any_of_parameter("experimentId", "datasetRunId", false);
    if !params.all("observationId").is_empty() && params.all("traceId").is_empty() {
        return Err(Error::invalid("observationId", "requires traceId"));
    }
    let data_types = params.all("dataType");
    let single_type = (data_types.len() == 1).then(|| data_types[0].to_ascii_uppercase());
    for (parameter, operator) in [("valueMin", ">="), ("valueMax", "<=")] {
        if let Some(bound) =
            params.parsed(parameter, |text| text.parse::<f64>().ok(), "a number")?
        {
            if single_type.as_deref() != Some("NUMERIC") {
                return Err(Error::invalid(parameter, "requires dataType=NUMERIC"));
            }
            filters.push(compare("value", operator, bound));
        }
    }
    let values = params.all("value");
    if !values.is_empty() {
        match single_type.as_deref() {
            Some("CATEGORICAL") => filters.push(any_of("stringValue", values)),
            Some("BOOLEAN") | Some("NUMERIC") if values.len() == 1 => {
                let number = match (single_type.as_deref(), values[0].as_str()) {
                    (Some("BOOLEAN"), "true") => 1.0,
                    (Some("BOOLEAN"), "false") => 0.0,
                    (Some("NUMERIC"), text) => text
                        .parse::<f64>()
                        .ok()
                        .filter(|number| number.is_finite())
                        .ok_or_else(|| Error::invalid("value", "must be a finite number"))?,
                    _ => return Err(Error::invalid("value", "must be true or false")),
                };
                filters.push(compare("value", "=", number));
            }
            Some("BOOLEAN") | Some("NUMERIC") => {
                return Err(Error::invalid(
                    "value",
                    "takes one value for NUMERIC and BOOLEAN scores",
                ))
            }
            _ => {
                return Err(Error::invalid(
                    "value",
                    "requires a single dataType of NUMERIC, BOOLEAN or CATEGORICAL",
                ))
            }
        }
    }
    Ok(ScoreQuery {
        page,
        limit,
        from_timestamp: params.timestamp("fromTimestamp")?,
        to_timestamp: params.timestamp("toTimestamp")?,
        filters,
        ..ScoreQuery::default()
    })
}

/// The sessions list: `fromTimestamp`, `toTimestamp`, `environment`.
pub fn session_query(params: &Params, max_limit: u32) -> Result<SessionQuery, Error> {
    Ok(SessionQuery {
        page: params.page()?,
        limit: params.limit(max_limit)?,
        from_timestamp: params.timestamp("fromTimestamp")?,
        to_timestamp: params.timestamp("toTimestamp")?,
        environments: params.all("environment"),
    })
}

/// The users and sessions lists of the UI: `page`, `limit`, `search` (a part of the id),
/// `fromTimestamp`, `toTimestamp` (the traces summed), `userId` (sessions with a trace of the
/// user), `orderBy=<total>.<asc|desc>` (`id`, `traces`, `tokens`, `cost`, `firstSeen`,
/// `lastSeen`), and bounds on the totals: `tracesMin`, `tracesMax`, `tokensMin`, `tokensMax`,
/// `costMin`, `costMax` (numbers), `firstSeenMin`, `firstSeenMax`, `lastSeenMin`,
/// `lastSeenMax` (ISO-8601 timestamps); `scoreName` adds the average of that score to every
/// row (sortable as `score`), bounded by `scoreMin`, `scoreMax` (numbers) and `scoreValue` (a
/// category or boolean value one of the group's scores has).
pub fn totals_query(params: &Params, max_limit: u32) -> Result<TotalsQuery, Error> {
    let mut query = TotalsQuery {
        page: params.page()?,
        limit: params.limit(max_limit)?,
        search: params.string("search"),
        user_id: params.string("userId"),
        from_timestamp: params.timestamp("fromTimestamp")?,
        to_timestamp: params.timestamp("toTimestamp")?,
        environment: params.string("environment"),
        ..TotalsQuery::default()
    };
    if let Some(order) = params.order_by()? {
        query.order_by = TotalsColumn::parse(&order.column).ok_or_else(|| {
            Error::invalid(
                "orderBy",
                "expected id, traces, tokens, cost, firstSeen, lastSeen or score",
            )
        })?;
        query.direction = order.direction;
    }
    let number = |key: &str| {
        params.parsed(
            key,
            |text| text.parse::<f64>().ok().filter(|value| value.is_finite()),
            "a number",
        )
    };
    let time = |key: &str| Ok::<_, Error>(params.timestamp(key)?.map(|micros| micros as f64));
    let bounds = [
        (
            TotalsColumn::Traces,
            number("tracesMin")?,
            number("tracesMax")?,
        ),
        (
            TotalsColumn::Tokens,
            number("tokensMin")?,
            number("tokensMax")?,
        ),
        (TotalsColumn::Cost, number("costMin")?, number("costMax")?),
        (
            TotalsColumn::FirstSeen,
            time("firstSeenMin")?,
            time("firstSeenMax")?,
        ),
        (
            TotalsColumn::LastSeen,
            time("lastSeenMin")?,
            time("lastSeenMax")?,
        ),
    ];
    for (column, min, max) in bounds {
        if min.is_some() || max.is_some() {
            query.bounds.push(TotalsBound { column, min, max });
        }
    }
    let score = ScoreFilter {
        name: params.string("scoreName").unwrap_or_default(),
        min: number("scoreMin")?,
        max: number("scoreMax")?,
        value: params
            .string("scoreValue")
            .filter(|value| !value.is_empty()),
    };
    if score.name.is_empty() {
        let bounded = score.min.is_some() || score.max.is_some() || score.value.is_some();
        if bounded || query.order_by == TotalsColumn::Score {
            return Err(Error::invalid(
                "scoreName",
                "required by scoreMin, scoreMax, scoreValue and orderBy=score",
            ));
        }
    } else {
        query.score = Some(score);
    }
    Ok(query)
}

/// The daily metrics: `traceName`, `userId`, `tags`, `environment`, `fromTimestamp`,
/// `toTimestamp`.
pub fn metrics_query(params: &Params, max_limit: u32) -> Result<MetricsQuery, Error> {
    Ok(MetricsQuery {
        page: params.page()?,
        limit: params.limit(max_limit)?,
        trace_name: params.string("traceName"),
        user_id: params.string("userId"),
        tags: params.all("tags"),
        environments: params.all("environment"),
        from_timestamp: params.timestamp("fromTimestamp")?,
        to_timestamp: params.timestamp("toTimestamp")?,
    })
}

/// The UI's traces filter on scores: `scoreName`, with `scoreMin` and `scoreMax`.
pub fn score_range(params: &Params) -> Result<Option<ScoreRange>, Error> {
    let Some(name) = params.string("scoreName") else {
        return Ok(None);
    };
    let number = |key: &str| params.parsed(key, |text| text.parse::<f64>().ok(), "a number");
    Ok(Some(ScoreRange {
        name,
        min: number("scoreMin")?,
        max: number("scoreMax")?,
    }))
}

/// The largest page of the prompts list.
pub const PROMPTS_MAX_LIMIT: u32 = 100;

/// The prompts list: `name`, `version`, `label`, `tag`, `fromUpdatedAt`, `toUpdatedAt`,
/// `page`, `limit` (10 by default, as Langfuse).
pub fn prompt_query(params: &Params) -> Result<PromptQuery, Error> {
    let label = params.string("label");
    if let Some(label) = &label {
        check_label(label, "label")?;
    }
    Ok(PromptQuery {
        page: params.page()?,
        limit: match params.get("limit") {
            None => 10,
            Some(_) => params.limit(PROMPTS_MAX_LIMIT)?,
        },
        name: params.string("name"),
        search: None,
        version: params.parsed("version", |text| text.parse::<i64>().ok(), "an integer")?,
        label,
        tag: params.string("tag"),
        from_updated_at: params.timestamp("fromUpdatedAt")?,
        to_updated_at: params.timestamp("toUpdatedAt")?,
    })
}

/// How a prompt request treats `version` and `label` given together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BothSelectors {
    /// The version wins (a fetch, as Langfuse answers it).
    VersionWins,
    /// A 400 (a delete, as Langfuse answers it).
    Rejected,
}

/// A prompt version by `version` or `label`; `None` when neither is given. A version that is
/// not a positive integer or a malformed label is a 400, and so are both at once when `both`
/// says so.
pub fn prompt_selector(
    params: &Params,
    both: BothSelectors,
) -> Result<Option<PromptSelector>, Error> {
    let version = params.parsed(
        "version",
        |text| text.parse::<i64>().ok().filter(|version| *version >= 1),
        "a positive integer",
    )?;
    let label = params.string("label");
    if let Some(label) = &label {
        check_label(label, "label")?;
    }
    match (version, label) {
        (Some(_), Some(_)) if both == BothSelectors::Rejected => Err(Error::invalid(
            "version",
            "give either a version or a label, not both",
        )),
        (Some(version), _) => Ok(Some(PromptSelector::Version(version))),
        (None, Some(label)) => Ok(Some(PromptSelector::Label(label))),
        (None, None) => Ok(None),
    }
}

/// `page` and `limit` (50 by default, at most 100) of the dataset lists.
pub fn page_request(params: &Params) -> Result<PageRequest, Error> {
    Ok(PageRequest {
        page: params.page()?,
        limit: params.limit(PUBLIC_MAX_LIMIT)?,
    })
}

/// The dataset items list: `datasetName`, `sourceTraceId`, `sourceObservationId`, `page`,
/// `limit`. A `version` is refused until items keep their history.
pub fn dataset_item_query(params: &Params) -> Result<DatasetItemQuery, Error> {
    Ok(DatasetItemQuery {
        page: PageRequest {
            page: params.page()?,
            limit: params.limit(PUBLIC_MAX_LIMIT)?,
        },
        dataset_name: params.string("datasetName"),
        source_trace_id: params.string("sourceTraceId"),
        source_observation_id: params.string("sourceObservationId"),
        version: params.timestamp("version")?,
    })
}

/// The comments list: `objectType`, `objectId` (only with an `objectType`, as Langfuse
/// requires), `authorUserId`, `page`, `limit`.
pub fn comment_query(params: &Params) -> Result<CommentQuery, Error> {
    let object_type = params
        .get("objectType")
        .map(spindle_ingest::review::parse_comment_object_type)
        .transpose()?;
    let object_id = params.string("objectId");
    if object_id.is_some() && object_type.is_none() {
        return Err(Error::invalid(
            "objectType",
            "is required when objectId is given",
        ));
    }
    Ok(CommentQuery {
        page: PageRequest {
            page: params.page()?,
            limit: params.limit(PUBLIC_MAX_LIMIT)?,
        },
        object_type,
        object_id,
        author_user_id: params.string("authorUserId"),
    })
}

/// The `status` filter of a queue's items (`PENDING` or `COMPLETED`).
pub fn queue_item_status(params: &Params) -> Result<Option<ItemStatus>, Error> {
    params
        .get("status")
        .map(|text| {
            ItemStatus::parse(text)
                .ok_or_else(|| Error::invalid("status", "must be \"PENDING\" or \"COMPLETED\""))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parameters of `query=<json>`, percent-encoded as a client sends them.
    fn params_of(json: &str) -> Params {
        let encoded: String = json
            .bytes()
            .map(|byte| match byte {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (byte as char).to_string(),
                _ => format!("%{byte:02X}"),
            })
            .collect();
        Params::parse(Some(&format!("query={encoded}"))).expect("a query string")
    }

    /// The error of parsing `json` starts with `field`.
    fn check_error(json: &str, field: &str) {
        let error = metrics_request(&params_of(json), MetricsVersion::V1).expect_err(json);
        assert!(
            error.message.starts_with(field),
            "{json}: {}",
            error.message
        );
    }

    #[test]
    fn repeated_parameters_keep_their_commas() {
        // Not named `params`: the OpenAPI test reads `params.…("key")` here as handler code.
        let query = Params::parse(Some("runs=a%2Cb&runs=c&runs=&other=d")).expect("parsed");
        assert_eq!(query.each("runs"), ["a,b", "c"]);
        assert_eq!(query.all("runs"), ["a", "b", "c"]);
        assert!(query.each("missing").is_empty());
    }

    const RANGE: &str = r#""fromTimestamp": "2026-01-01T00:00:00Z", "toTimestamp": "2026-01-02T00:00:00.000+00:00""#;

    #[test]
    fn metrics_query_parses_every_part() {
        let json = format!(
            r#"{{"view": "scores-numeric", "dimensions": [{{"field": "name"}}],
                "metrics": [{{"measure": "value", "aggregation": "p95"}}],
                "filters": [{{"column": "source", "operator": "any of", "value": ["API"],
                              "type": "stringOptions"}}],
                "timeDimension": {{"granularity": "week"}},
                "orderBy": [{{"field": "p95_value", "direction": "desc"}}],
                "config": {{"bins": 20, "row_limit": 5}}, {RANGE}}}"#
        );
        let request = metrics_request(&params_of(&json), MetricsVersion::V2).expect("parsed");
        assert_eq!(request.view, MetricsView::ScoresNumeric);
        assert_eq!(request.version, MetricsVersion::V2);
        assert_eq!(request.dimensions, ["name"]);
        assert_eq!(request.metrics[0].aggregation, Aggregation::P95);
        assert_eq!(
            request.filters[0].value,
            FilterValue::Strings(vec!["API".into()])
        );
        assert_eq!(request.granularity, Some(Granularity::Week));
        assert_eq!(request.order_by[0].direction, Direction::Desc);
        assert_eq!((request.bins, request.row_limit), (Some(20), Some(5)));
        assert_eq!(request.to - request.from, 86_400_000_000);

        // Optional parts may be absent or null.
        let json = format!(
            r#"{{"view": "traces", "metrics": [{{"measure": "count", "aggregation": "count"}}],
                "dimensions": null, "timeDimension": null, "orderBy": null, {RANGE}}}"#
        );
        let request = metrics_request(&params_of(&json), MetricsVersion::V1).expect("parsed");
        assert!(request.dimensions.is_empty() && request.order_by.is_empty());
        assert_eq!(request.granularity, None);
    }

    #[test]
    fn metrics_query_errors_name_the_field() {
        let count = r#""metrics": [{"measure": "count", "aggregation": "count"}]"#;
        check_error("[]", "query: Invalid request data");
        check_error(&format!(r#"{{{count}, {RANGE}}}"#), "query.view");
        check_error(
            &format!(r#"{{"view": "users", {count}, {RANGE}}}"#),
            "query.view",
        );
        check_error(
            &format!(r#"{{"view": "traces", {RANGE}}}"#),
            "query.metrics",
        );
        check_error(
            &format!(
                r#"{{"view": "traces", "metrics": [{{"measure": "count", "aggregation": "median"}}], {RANGE}}}"#
            ),
            "query.metrics[0].aggregation",
        );
        check_error(
            &format!(r#"{{"view": "traces", {count}, "dimensions": [{{"name": "x"}}], {RANGE}}}"#),
            "query.dimensions[0].field",
        );
        check_error(
            &format!(
                r#"{{"view": "traces", {count}, "filters": [{{"column": "name"}}], {RANGE}}}"#
            ),
            "query.filters[0].type",
        );
        check_error(
            &format!(
                r#"{{"view": "traces", {count}, "timeDimension": {{"granularity": "year"}}, {RANGE}}}"#
            ),
            "query.timeDimension.granularity",
        );
        check_error(
            &format!(
                r#"{{"view": "traces", {count}, "orderBy": [{{"field": "x", "direction": "up"}}], {RANGE}}}"#
            ),
            "query.orderBy[0].direction",
        );
        check_error(
            &format!(r#"{{"view": "traces", {count}, "config": {{"row_limit": -1}}, {RANGE}}}"#),
            "query.config.row_limit",
        );
        check_error(
            &format!(
                r#"{{"view": "traces", {count}, "fromTimestamp": "yesterday", "toTimestamp": "now"}}"#
            ),
            "query.fromTimestamp",
        );
        let missing = metrics_request(&Params::parse(None).expect("empty"), MetricsVersion::V1);
        assert!(missing
            .expect_err("no query")
            .message
            .starts_with("query: is required"));
    }
}
