//! The prompts API's response bodies: a prompt version (`Prompt` of the API definition, with
//! Langfuse's extra `id`, `projectId`, `createdBy`, `createdAt`, `updatedAt`, `isActive`) and
//! the list of prompts (`PromptMetaListResponse`).

use serde_json::{json, Map, Value};
use spindle_core::prompt::{ResolutionGraph, ResolvedPrompt, PRODUCTION_LABEL};
use spindle_core::time::format_iso;
use spindle_store::prompts::PromptMeta;
use spindle_store::Page;

use super::stored_json;

fn graph_json(graph: &ResolutionGraph) -> Value {
    let node = |node: &spindle_core::prompt::PromptNode| json!({"id": node.id, "name": node.name, "version": node.version});
    let dependencies: Map<String, Value> = graph
        .dependencies
        .iter()
        .map(|(parent, children)| {
            (
                parent.clone(),
                Value::Array(children.iter().map(node).collect()),
            )
        })
        .collect();
    json!({"root": node(&graph.root), "dependencies": dependencies})
}

/// A prompt version as `GET /api/public/v2/prompts/{name}` answers it.
pub fn prompt_json(resolved: &ResolvedPrompt) -> Value {
    let version = &resolved.version;
    json!({
        "id": version.id,
        "createdAt": format_iso(version.created_at),
        "updatedAt": format_iso(version.updated_at),
        "projectId": version.project_id,
        "createdBy": version.created_by,
        "name": version.name,
        "version": version.version,
        "type": version.prompt_type.as_str(),
        "prompt": stored_json(&version.prompt),
        "config": stored_json(&version.config),
        "labels": version.labels,
        "tags": version.tags,
        "commitMessage": version.commit_message,
        "resolutionGraph": resolved.graph.as_ref().map(graph_json),
        "isActive": version.labels.iter().any(|label| label == PRODUCTION_LABEL),
    })
}

/// The prompts list; `pagination` repeats `meta`, as Langfuse's answer does for clients of
/// its first release.
pub fn prompt_list_json(page: &Page<PromptMeta>) -> Value {
    let data: Vec<Value> = page
        .items
        .iter()
        .map(|meta| {
            json!({
                "name": meta.name,
                "type": meta.prompt_type.as_str(),
                "versions": meta.versions,
                "labels": meta.labels,
                "tags": meta.tags,
                "lastUpdatedAt": format_iso(meta.last_updated_at),
                "lastConfig": stored_json(&meta.last_config),
            })
        })
        .collect();
    let meta = json!({
        "page": page.page,
        "limit": page.limit,
        "totalItems": page.total_items,
        "totalPages": page.total_pages(),
    });
    json!({"data": data, "meta": meta, "pagination": meta})
}
