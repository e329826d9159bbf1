//! The HTTP surface: every route, and the router that ties them to their handlers.

pub mod admin;
pub mod body;
pub mod datasets;
pub mod experiments;
pub mod ingest;
pub mod media;
pub mod models;
pub mod ops;
pub mod params;
pub mod prompts;
pub mod read;
pub mod reviews;
pub mod score_configs;

use crate::state::AppState;
use axum::routing::{delete, get, patch, post, put};
use axum::Router;

/// The whole application, without a socket: tests drive it with `tower::ServiceExt::oneshot`.
pub fn app(state: AppState) -> Router {
    let public = Router::new()
        .route("/otel/v1/traces", post(ingest::otel_traces))
        .route("/otel/v1/metrics", post(ingest::otel_metrics))
        .route("/ingestion", post(ingest::ingestion))
        .route(
            "/scores",
            post(ingest::create_scores).get(read::list_scores),
        )
        .route(
            "/scores/{id}",
            get(read::get_score).delete(read::delete_score),
        )
        .route("/v2/scores", get(read::list_scores))
        .route("/v2/scores/{id}", get(read::get_score))
        .route("/v3/scores", get(read::list_scores_v3))
        .route(
            "/traces",
            get(read::list_traces).delete(read::delete_traces),
        )
        .route(
            "/traces/{id}",
            get(read::get_trace).delete(read::delete_trace),
        )
        .route("/observations", get(read::list_observations))
        .route("/observations/{id}", get(read::get_observation))
        .route("/v2/observations", get(read::list_observations_v2))
        .route("/sessions", get(read::list_sessions))
        .route("/sessions/{id}", get(read::get_session))
        .route("/metrics", get(read::metrics_v1))
        .route("/v2/metrics", get(read::metrics_v2))
        .route("/metrics/daily", get(read::daily_metrics))
        .route("/projects", get(read::projects).post(admin::create_project))
        .route(
            "/projects/{projectId}",
            put(admin::update_project).delete(admin::delete_project),
        )
        .route(
            "/projects/{projectId}/apiKeys",
            get(admin::project_keys).post(admin::create_project_key),
        )
        .route(
            "/projects/{projectId}/apiKeys/{apiKeyId}",
            delete(admin::delete_project_key),
        )
        .route(
            "/projects/{projectId}/memberships",
            get(admin::project_memberships)
                .put(admin::put_project_membership)
                .delete(admin::delete_project_membership),
        )
        .route("/organizations/projects", get(admin::organization_projects))
        .route("/organizations/apiKeys", get(admin::organization_keys))
        .route(
            "/organizations/memberships",
            get(admin::organization_memberships)
                .put(admin::put_organization_membership)
                .delete(admin::delete_organization_membership),
        )
        .route("/models", get(models::list).post(models::create))
        .route(
            "/models/{id}",
            get(models::get).put(models::upsert).delete(models::delete),
        )
        .route("/v2/prompts", get(prompts::list).post(prompts::create))
        .route(
            "/v2/prompts/{name}",
            get(prompts::get).delete(prompts::delete),
        )
        .route(
            "/v2/prompts/{name}/versions/{version}",
            patch(prompts::update_labels),
        )
        .route(
            "/v2/datasets",
            get(datasets::list_datasets).post(datasets::create_dataset),
        )
        .route("/v2/datasets/{name}", get(datasets::get_dataset))
        .route(
            "/dataset-items",
            get(datasets::list_items).post(datasets::create_item),
        )
        .route(
            "/dataset-items/{id}",
            get(datasets::get_item).delete(datasets::delete_item),
        )
        .route(
            "/dataset-run-items",
            get(datasets::list_run_items).post(datasets::create_run_item),
        )
        .route(
            "/annotation-queues",
            get(reviews::list_queues).post(reviews::create_queue),
        )
        .route("/annotation-queues/{queueId}", get(reviews::get_queue))
        .route(
            "/annotation-queues/{queueId}/items",
            get(reviews::list_items).post(reviews::add_item),
        )
        .route(
            "/annotation-queues/{queueId}/items/{itemId}",
            get(reviews::get_item)
                .patch(reviews::update_item)
                .delete(reviews::remove_item),
        )
        .route(
            "/annotation-queues/{queueId}/assignments",
            post(reviews::assign).delete(reviews::unassign),
        )
        .route(
            "/comments",
            get(reviews::list_comments).post(reviews::create_comment),
        )
        .route("/comments/{commentId}", get(reviews::get_comment))
        .route("/datasets/{name}/runs", get(datasets::list_runs))
        .route("/experiments", get(experiments::list))
        .route("/experiment-items", get(experiments::list_items))
        .route(
            "/datasets/{name}/runs/{run}",
            get(datasets::get_run).delete(datasets::delete_run),
        )
        .route(
            "/score-configs",
            get(score_configs::list).post(score_configs::create),
        )
        .route(
            "/score-configs/{id}",
            get(score_configs::get).patch(score_configs::update),
        )
        .route("/health", get(ops::health))
        .route("/openapi.json", get(ops::openapi))
        .route("/media", post(media::create))
        .route("/media/{id}", get(media::get).patch(media::patch))
        .route("/media/{project}/{id}/download", get(media::download))
        .route("/media/{project}/{id}/upload", put(media::upload))
        .fallback(ops::not_found)
        .layer(ops::cors());
    Router::new()
        .nest("/api/public", public)
        .route("/metrics", get(ops::metrics))
        .route("/livez", get(ops::livez))
        .route("/readyz", get(ops::readyz))
        // Every other path is the web UI: its internal `/api/ui` API, assets and pages are
        // not part of the public API (nor of openapi.json).
        .fallback_service(crate::ui::app(state.clone()))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops::observe_requests,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops::linger_on_unread_body,
        ))
        .with_state(state)
}
