//! The totals of a project's end users and sessions as the web UI lists them: the query
//! (search, range, sort and bounds on the totals) and the row each group reads back as.
//! The statements are in `people_sql.rs`, the methods on [`crate::accounts::Accounts`].

use spindle_core::time::Micros;

use crate::Direction;

/// What a list of totals groups the project's traces by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grouping {
    /// The traces' `userId`.
    User,
    /// The traces' `sessionId`.
    Session,
}

impl Grouping {
    /// The `kind` of its rows in `people_rollups`.
    pub fn kind(self) -> &'static str {
        match self {
            Grouping::User => "user",
            Grouping::Session => "session",
        }
    }

    /// The grouping of a `kind` of `people_rollups`.
    pub fn of_kind(kind: &str) -> Option<Self> {
        match kind {
            "user" => Some(Grouping::User),
            "session" => Some(Grouping::Session),
            _ => None,
        }
    }
}

/// A total a list is sorted by or bounded on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotalsColumn {
    /// The user or session id.
    Id,
    Traces,
    Tokens,
    Cost,
    FirstSeen,
    LastSeen,
    /// The average of the query's score ([`TotalsQuery::score`]); groups without one sort as
    /// the smallest.
    Score,
}

impl TotalsColumn {
    /// The column of its name in the UI API (`traces`, `totalCost`, …).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "id" | "userId" | "sessionId" => TotalsColumn::Id,
            "traces" | "traceCount" => TotalsColumn::Traces,
            "tokens" | "totalTokens" => TotalsColumn::Tokens,
            "cost" | "totalCost" => TotalsColumn::Cost,
            "firstSeen" => TotalsColumn::FirstSeen,
            "lastSeen" => TotalsColumn::LastSeen,
            "score" | "scoreAverage" => TotalsColumn::Score,
            _ => return None,
        })
    }

    /// Whether the total is a time (its bounds are microseconds).
    pub fn is_time(self) -> bool {
        matches!(self, TotalsColumn::FirstSeen | TotalsColumn::LastSeen)
    }
}

/// Bounds on a total, both inclusive: `min <= total <= max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TotalsBound {
    pub column: TotalsColumn,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// A score a list shows and may be bounded on: per group, the average of the numeric and
/// boolean values of the scores of that name on its traces and their observations, and for
/// sessions also on the session itself (scores naming the session and no trace).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScoreFilter {
    pub name: String,
    /// Only groups whose average is at least this.
    pub min: Option<f64>,
    /// Only groups whose average is at most this.
    pub max: Option<f64>,
    /// Only groups with at least one score of the name with this string value (a category,
    /// or `True`/`False` of a boolean).
    pub value: Option<String>,
}

/// A page of users or sessions with their totals.
#[derive(Debug, Clone, PartialEq)]
pub struct TotalsQuery {
    pub page: u32,
    pub limit: u32,
    /// A part of the id, matched ignoring ASCII case.
    pub search: Option<String>,
    /// Only this id (a user page's totals).
    pub id: Option<String>,
    /// Sessions only: the sessions in which this user has a trace.
    pub user_id: Option<String>,
    /// Only traces from this time on (their timestamp, or their creation when they have none).
    pub from_timestamp: Option<Micros>,
    /// Only traces before this time.
    pub to_timestamp: Option<Micros>,
    /// Only traces of this environment.
    pub environment: Option<String>,
    pub order_by: TotalsColumn,
    pub direction: Direction,
    pub bounds: Vec<TotalsBound>,
    /// The score whose average the rows carry, with the bounds on it.
    pub score: Option<ScoreFilter>,
}

impl Default for TotalsQuery {
    fn default() -> Self {
        TotalsQuery {
            page: 1,
            limit: 50,
            search: None,
            id: None,
            user_id: None,
            from_timestamp: None,
            to_timestamp: None,
            environment: None,
            order_by: TotalsColumn::LastSeen,
            direction: Direction::Desc,
            bounds: Vec::new(),
            score: None,
        }
    }
}

/// One user or session, summed over its traces in the query's range.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupTotals {
    /// The user or session id.
    pub id: String,
    pub traces: u64,
    /// The earliest trace's time.
    pub first_seen: Option<Micros>,
    /// The latest trace's time.
    pub last_seen: Option<Micros>,
    /// The latest end (or start) of an observation of these traces.
    pub last_end: Option<Micros>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub total_tokens: i64,
    pub total_cost: f64,
    /// The distinct user ids of these traces, sorted.
    pub users: Vec<String>,
    /// The average of the query's score over the group's scores of that name (`None` without
    /// a score in the query, or when the group has no numeric score of that name).
    pub score_average: Option<f64>,
}
