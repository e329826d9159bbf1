//! Response bodies of the UI API: the public API's shapes ([`crate::dto`]) where a page shows
//! the same thing, and these types for what only the pages need.

use crate::dto::Trace;
use serde::Serialize;
use serde_json::Value;
use spindle_core::time::format_iso;
use spindle_store::accounts::{SavedView, TokenTotals};
use spindle_store::people::GroupTotals;
use spindle_store::{ApiKey, ScoreView};

/// `{data: [...]}`: a list without pages.
#[derive(Debug, Serialize)]
pub struct DataList<T> {
    pub data: Vec<T>,
}

impl<T> DataList<T> {
    pub fn of<V>(items: impl IntoIterator<Item = V>, convert: impl Fn(V) -> T) -> Self {
        DataList {
            data: items.into_iter().map(convert).collect(),
        }
    }
}

/// `{ok: true}`: a sign-in, sign-out or password change went through.
#[derive(Debug, Serialize)]
pub struct Done {
    pub ok: bool,
}

impl Done {
    pub const OK: Done = Done { ok: true };
}

/// `{id}` of a created entity.
#[derive(Debug, Serialize)]
pub struct Created {
    pub id: String,
}

/// `{deleted}`: whether a delete found something to delete.
#[derive(Debug, Serialize)]
pub struct Deleted {
    pub deleted: bool,
}

/// `{deleted}`: how many rows a delete removed.
#[derive(Debug, Serialize)]
pub struct DeletedCount {
    pub deleted: u64,
}

/// A row of the traces page: the public summary without input, output and metadata, with its
/// scores' values, the trace's token totals, its number of comments and the previews of its
/// input and output.
#[derive(Debug, Serialize)]
pub struct TraceRow {
    #[serde(flatten)]
    pub trace: Trace<String, ScoreValue, ()>,
    pub tokens: Tokens,
    pub comments: u64,
    #[serde(flatten)]
    pub previews: Previews,
}

impl TraceRow {
    pub fn new(
        trace: Trace<String, ScoreValue, ()>,
        tokens: TokenTotals,
        comments: u64,
        previews: Previews,
    ) -> Self {
        TraceRow {
            comments,
            trace,
            tokens: Tokens {
                input: tokens.input,
                output: tokens.output,
                total: tokens.total,
            },
            previews,
        }
    }
}

/// The first [`PREVIEW_CHARS`] characters of a trace's input and output as stored (a JSON
/// string without its quotes), with `…` when cut; `null` when there is none.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Previews {
    pub input_preview: Option<String>,
    pub output_preview: Option<String>,
}

/// How many characters a preview keeps.
pub const PREVIEW_CHARS: usize = 160;

impl Previews {
    pub fn of(input: Option<&str>, output: Option<&str>) -> Self {
        Previews {
            input_preview: input.and_then(preview),
            output_preview: output.and_then(preview),
        }
    }
}

/// The preview of a stored input or output: a JSON string is unquoted first (only a short
/// one is parsed; a long one loses its opening quote); whitespace runs become one space.
fn preview(text: &str) -> Option<String> {
    let unquoted = if text.starts_with('"') && text.len() <= 4 * PREVIEW_CHARS {
        serde_json::from_str::<String>(text).ok()
    } else {
        None
    };
    let text = match &unquoted {
        Some(unquoted) => unquoted.as_str(),
        None => text.strip_prefix('"').unwrap_or(text),
    };
    let mut preview = String::new();
    let mut chars = 0;
    for word in text.split_whitespace() {
        if chars > 0 {
            preview.push(' ');
            chars += 1;
        }
        for c in word.chars() {
            if chars == PREVIEW_CHARS {
                preview.push('…');
                return Some(preview);
            }
            preview.push(c);
            chars += 1;
        }
    }
    (!preview.is_empty()).then_some(preview)
}

/// Token totals of a trace.
#[derive(Debug, Serialize)]
pub struct Tokens {
    pub input: i64,
    pub output: i64,
    pub total: i64,
}

/// A score as the traces page shows it beside its trace.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScoreValue {
    pub name: Option<String>,
    pub value: Option<f64>,
    pub string_value: Option<String>,
}

impl ScoreValue {
    pub fn of(score: ScoreView) -> Self {
        ScoreValue {
            name: score.record.name,
            value: score.record.value,
            string_value: score.record.string_value,
        }
    }
}

/// A row of the users or sessions page, or a user page's totals: the totals of the user's or
/// session's traces.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TotalsRow {
    /// The user or session id.
    pub id: String,
    pub trace_count: u64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    /// From the first trace to the last trace or observation end.
    pub duration_seconds: Option<f64>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub total_tokens: i64,
    pub total_cost: f64,
    pub user_ids: Vec<String>,
    /// The average of the score the list was asked for (`scoreName`), when the group has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score_average: Option<f64>,
}

impl TotalsRow {
    pub fn of(totals: GroupTotals) -> Self {
        let last = match (totals.last_seen, totals.last_end) {
            (Some(seen), Some(end)) => Some(seen.max(end)),
            (seen, end) => seen.or(end),
        };
        let duration_seconds = match (totals.first_seen, last) {
            (Some(first), Some(last)) => Some((last - first).max(0) as f64 / 1e6),
            _ => None,
        };
        TotalsRow {
            id: totals.id,
            trace_count: totals.traces,
            first_seen: totals.first_seen.map(format_iso),
            last_seen: totals.last_seen.map(format_iso),
            duration_seconds,
            input_tokens: totals.input_tokens,
            output_tokens: totals.output_tokens,
            total_tokens: totals.total_tokens,
            total_cost: totals.total_cost,
            user_ids: totals.users,
            score_average: totals.score_average,
        }
    }
}

/// An API key as the settings page lists it: never its secret.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRow {
    pub public_key: String,
    pub secret_hint: String,
    pub note: Option<String>,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

impl KeyRow {
    pub fn of(key: &ApiKey) -> Self {
        Self::from(key.summary())
    }

    pub fn of_organization(key: &spindle_store::organizations::OrganizationApiKey) -> Self {
        Self::from(key.summary())
    }
}

impl From<spindle_store::KeySummary<'_>> for KeyRow {
    fn from(key: spindle_store::KeySummary<'_>) -> Self {
        KeyRow {
            public_key: key.public_key.to_owned(),
            secret_hint: key.secret_hint.to_owned(),
            note: key.note.map(str::to_owned),
            created_at: format_iso(key.created_at),
            revoked_at: key.revoked_at.map(format_iso),
        }
    }
}

/// A new key pair: the only answer that holds a secret key.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewKey {
    pub public_key: String,
    pub secret_key: String,
}

impl NewKey {
    /// The 201 answer that shows the secret key, this once.
    pub fn created(self) -> axum::response::Response {
        use axum::response::IntoResponse;
        (axum::http::StatusCode::CREATED, axum::Json(self)).into_response()
    }
}

/// `{revoked}`: whether the key was active until now.
#[derive(Debug, Serialize)]
pub struct Revoked {
    pub revoked: bool,
}

/// A saved view of a page.
#[derive(Debug, Serialize)]
pub struct ViewRow {
    pub id: String,
    pub page: String,
    pub name: String,
    pub query: String,
}

impl ViewRow {
    pub fn of(view: &SavedView) -> Self {
        ViewRow {
            id: view.id.clone(),
            page: view.page.clone(),
            name: view.name.clone(),
            query: view.query.clone(),
        }
    }
}

/// A member of a project or an organization, with their role there (in a project: the
/// role that applies, and the project's own role of theirs when they have one).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub role: &'static str,
    pub project_role: Option<&'static str>,
}

/// An invitation: the member, and for a new user the one-time sign-in path.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invited {
    pub email: String,
    pub role: &'static str,
    pub sign_in_path: Option<String>,
}

/// `GET /api/ui/me`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub user: MeUser,
    pub csrf_token: String,
    pub projects: Vec<MeProject>,
    pub organizations: Vec<MeOrganization>,
}

/// The signed-in user.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeUser {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub admin: bool,
    pub has_password: bool,
}

/// A project the signed-in user can open, with their role in it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeProject {
    pub id: String,
    pub name: String,
    pub role: &'static str,
    pub organization_id: String,
    pub organization_name: String,
}

/// An organization the user is a member of, with their role there.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeOrganization {
    pub id: String,
    pub name: String,
    pub role: &'static str,
}

/// A role as the web UI names it: lower case (`owner`, `admin`, `member`, `viewer`, `none`).
pub fn role_name(role: spindle_store::accounts::Role) -> &'static str {
    use spindle_store::accounts::Role;
    match role {
        Role::Owner => "owner",
        Role::Admin => "admin",
        Role::Member => "member",
        Role::Viewer => "viewer",
        Role::NoAccess => "none",
    }
}

/// The models page: every model that can price the project's generations, and the switch.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Models {
    pub data: Vec<Value>,
    pub builtin_prices: bool,
}

/// The project's rolled-up metadata keys, the most it may have, and whether a sweep of its
/// traces runs.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolledMetadataKeys {
    pub keys: Vec<RolledMetadataKey>,
    pub max_keys: usize,
    pub sweeping: bool,
}

/// One rolled-up metadata key: ready once every trace is rolled up under it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolledMetadataKey {
    pub key: String,
    pub ready: bool,
    pub created_at: String,
}

/// `{builtinPrices}`: the switch of the built-in prices.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuiltinPrices {
    pub builtin_prices: bool,
}

/// `{changed}`: how many observations a recomputation changed.
#[derive(Debug, Serialize)]
pub struct Changed {
    pub changed: u64,
}

/// An entry of the audit log: who (`actorKind`: USER, ORGANIZATION_KEY or PROJECT_KEY, with
/// the user's id and email or the key's public key) did what to which resource, when.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRow {
    pub id: i64,
    pub created_at: String,
    pub project_id: Option<String>,
    pub actor_kind: &'static str,
    pub actor_id: String,
    pub actor_email: Option<String>,
    pub action: String,
    pub resource_type: String,
    pub resource_id: String,
    pub details: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::{preview, PREVIEW_CHARS};

    #[test]
    fn previews_unquote_collapse_whitespace_and_cut() {
        assert_eq!(
            preview(r#""How do I\nreset it?""#).as_deref(),
            Some("How do I reset it?")
        );
        assert_eq!(
            preview(r#"{"a": 1,  "b": [2]}"#).as_deref(),
            Some(r#"{"a": 1, "b": [2]}"#)
        );
        assert_eq!(preview("   "), None);
        let long = "é".repeat(PREVIEW_CHARS + 5);
        let cut = preview(&long).expect("a preview");
        assert_eq!(cut.chars().count(), PREVIEW_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(
            preview(&"x".repeat(PREVIEW_CHARS)).expect("fits").len(),
            PREVIEW_CHARS
        );
    }
}

/// A dataset of the datasets page: the public API's dataset with its numbers of items and
/// runs.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetRow {
    #[serde(flatten)]
    pub dataset: Value,
    pub item_count: u64,
    pub run_count: u64,
}

/// A dataset run's page: the run's aggregates over all its items and a page of its items in
/// the comparison's shape.
#[derive(Debug, Serialize)]
pub struct RunWithItems {
    #[serde(flatten)]
    pub aggregates: Value,
    pub items: Value,
}

/// An annotation queue with its progress: the public API's queue, its pending and completed
/// items and its reviewers.
#[derive(Debug, Serialize)]
pub struct QueueRow {
    #[serde(flatten)]
    pub queue: Value,
    pub pending: u64,
    pub completed: u64,
    pub reviewers: Vec<ReviewerRow>,
}

/// A reviewer of a queue, by id and display name, with the items they completed, hold and
/// could take.
#[derive(Debug, Serialize)]
pub struct ReviewerRow {
    pub id: String,
    pub name: String,
    pub assigned: bool,
    pub completed: u64,
    pub claimed: u64,
    pub available: u64,
}

/// A queue item as the review pages show it: the public API's item, who completed it and
/// who holds it until when (by id and display name).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueItemRow {
    #[serde(flatten)]
    pub item: Value,
    pub completed_by_user_id: Option<String>,
    pub completed_by: Option<String>,
    pub claimed_by_user_id: Option<String>,
    pub claimed_by: Option<String>,
    pub claim_expires_at: Option<String>,
}

/// The answer of review mode's `next`.
#[derive(Debug, Serialize)]
pub struct NextItem {
    pub queue: Value,
    pub configs: Vec<Value>,
    pub pending: u64,
    pub available: u64,
    pub item: Option<QueueItemRow>,
    pub object: Value,
}

/// The answer of review mode's `complete`: the completed item and the ids of its scores.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompletedItem {
    pub item: QueueItemRow,
    pub score_ids: Vec<String>,
}
