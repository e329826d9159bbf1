//! The web UI: the embedded single-page app, the session sign-in, and the internal JSON API
//! under `/api/ui` the app reads. Every `/api/ui` route except sign-in needs a session;
//! every write needs the session's CSRF token in the `x-spindle-csrf` header.

pub mod assets;
pub mod audit;
pub mod bootstrap;
mod bundle;
pub mod dashboard;
pub mod datasets;
pub mod handlers;
pub mod members;
pub mod metadata_rollups;
pub mod pricing;
pub mod prompts;
pub mod responses;
pub mod reviews;
pub mod score_configs;
pub mod session;

use crate::state::AppState;
use axum::routing::{delete, get, patch, post, put};
use axum::Router;

/// The header a write must carry: the session's CSRF token (any value for sign-in).
pub const CSRF_HEADER: &str = "x-spindle-csrf";

/// The UI's routes, the fallback of [`crate::app`]: `/api/ui/...`, `/assets/...`, and
/// `index.html` for every other `GET` (the app routes in the browser).
pub fn app(state: AppState) -> Router {
    let project = Router::new()
        .route("/traces", get(handlers::list_traces))
        .route("/traces/delete", post(handlers::delete_traces))
        .route("/traces/{id}", get(handlers::get_trace))
        .route("/values", get(handlers::distinct_values))
        .route("/observations", get(handlers::list_observations))
        .route("/observations/{id}", get(handlers::get_observation))
        .route(
            "/scores",
            get(handlers::list_scores).post(handlers::create_score),
        )
        .route("/scores/delete", post(handlers::delete_scores))
        .route("/sessions", get(handlers::list_sessions))
        .route("/sessions/{id}", get(handlers::get_session))
        .route("/users", get(handlers::list_users))
        .route("/users/{id}", get(handlers::get_user))
        .route("/media/{id}", get(handlers::media_content))
        .route("/dashboard", get(handlers::dashboard))
        .route("/keys", get(handlers::list_keys).post(handlers::create_key))
        .route("/keys/{public_key}", delete(handlers::revoke_key))
        .route("/audit-log", get(audit::project_log))
        .route(
            "/views",
            get(handlers::list_views).post(handlers::save_view),
        )
        .route("/views/{id}", delete(handlers::delete_view))
        .route(
            "/members",
            get(members::list_members).post(members::invite_member),
        )
        .route(
            "/members/{user_id}",
            put(members::update_member).delete(members::remove_member),
        )
        .route("/models", get(pricing::list).post(pricing::create))
        .route("/models/{id}", delete(pricing::delete))
        .route("/pricing", put(pricing::set_pricing))
        .route("/pricing/recompute", post(pricing::recompute))
        .route(
            "/rolled-metadata",
            get(metadata_rollups::list).put(metadata_rollups::replace),
        )
        .route(
            "/score-configs",
            get(score_configs::list).post(score_configs::create),
        )
        .route("/score-configs/{id}", patch(score_configs::update))
        .route("/datasets", get(datasets::list).post(datasets::create))
        .route("/datasets/{name}", get(datasets::get))
        .route(
            "/datasets/{name}/items",
            get(datasets::items).post(datasets::upsert_item),
        )
        .route("/datasets/{name}/runs", get(datasets::runs))
        .route("/datasets/{name}/runs/{run}", get(datasets::run))
        .route("/datasets/{name}/compare", get(datasets::compare))
        .route("/prompts", get(prompts::list).post(prompts::create))
        .route("/prompts/{name}", get(prompts::get).delete(prompts::delete))
        .route("/prompts/{name}/metrics", get(prompts::metrics))
        .route(
            "/prompts/{name}/versions/{version}/generations",
            get(prompts::generations),
        )
        .route(
            "/prompts/{name}/versions/{version}/labels",
            post(prompts::add_labels),
        )
        .route(
            "/prompts/{name}/versions/{version}/labels/{label}",
            delete(prompts::remove_label),
        )
        .route(
            "/comments",
            get(reviews::list_comments).post(reviews::create_comment),
        )
        .route(
            "/queues",
            get(reviews::list_queues).post(reviews::create_queue),
        )
        .route("/queues/{queue_id}/items", post(reviews::add_item))
        .route("/queues/{queue_id}/reviewers", post(reviews::join_queue))
        .route("/queues/{queue_id}/next", post(reviews::next_item))
        .route(
            "/queues/{queue_id}/items/{item_id}/complete",
            post(reviews::complete_item),
        );
    let organization = Router::new()
        .route("/audit-log", get(audit::organization_log))
        .route(
            "/members",
            get(members::organization_members).post(members::invite_organization_member),
        )
        .route(
            "/members/{user_id}",
            put(members::update_organization_member).delete(members::remove_organization_member),
        )
        .route(
            "/keys",
            get(members::organization_keys).post(members::create_organization_key),
        )
        .route(
            "/keys/{public_key}",
            delete(members::revoke_organization_key),
        );
    let ui_api = Router::new()
        .route("/auth/sign-in", post(session::sign_in))
        .route("/auth/sign-out", post(session::sign_out))
        .route("/auth/link", get(session::sign_in_with_link))
        .route("/me", get(session::me))
        .route("/me/password", post(session::set_password))
        .route("/organizations", post(members::create_organization))
        .nest("/projects/{project_id}", project)
        .nest("/organizations/{organization_id}", organization)
        .fallback(assets::api_not_found);
    Router::new()
        .nest("/api/ui", ui_api)
        .route("/assets/{*path}", get(assets::asset))
        .fallback(assets::spa)
        .with_state(state)
}
