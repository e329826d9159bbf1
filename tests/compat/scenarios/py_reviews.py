"""Annotation queues and comments with the official Python SDK's API client (5.x or 4.x, the
major is the first argument): a trace with a span in a session and a prompt are created
through the SDK and flushed, and a score config through the API; then `api.annotation_queues` creates and reads a queue, adds a
trace, an observation and a completed session item, lists them (all, by status, one per
page), reads one, completes one, removes one, and assigns and unassigns users; and
`api.comments` comments on the trace, the observation, the session and the prompt, lists
them by object and by author, and reads one. The error cases: an unknown queue, a prompt as
a queue item, a queue of an unknown score config, an unknown user, a comment on an object that does not exist, an id filter
without a type. Prints what it saw; the test reads the rest back."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import error_of, finish, start_client  # noqa: E402


def value(enum_or_text):
    return str(getattr(enum_or_text, "value", enum_or_text))


def item_summary(item):
    return {"id": item.id, "queue_id": item.queue_id, "object_id": item.object_id,
            "object_type": value(item.object_type), "status": value(item.status),
            "completed": item.completed_at is not None}


def comment_summary(comment):
    return {"id": comment.id, "object_type": value(comment.object_type), "object_id": comment.object_id,
            "content": comment.content, "author_user_id": comment.author_user_id,
            "project_id": comment.project_id}


def main(major):
    collector, run, timeout, summary, lf = start_client(major)
    from langfuse import propagate_attributes
    session_id = f"review-session-{run}-{major}"
    with propagate_attributes(session_id=session_id):
        with lf.start_as_current_observation(name="answer", as_type="span") as span:
            span.update(output="42")
            summary["trace_id"] = lf.get_current_trace_id()
            summary["observation_id"] = lf.get_current_observation_id()
    summary["session_id"] = session_id
    summary["prompt_name"] = f"compat-{run}-{major}-review"
    lf.create_prompt(name=summary["prompt_name"], prompt="Hi {{name}}", labels=["production"])
    lf.flush()
    # The server's prompt body carries the version's id, the id a comment on a prompt names.
    read = lf.api.prompts.get(summary["prompt_name"], version=1)
    summary["prompt_id"] = getattr(read, "id", None) or read.dict().get("id")

    config = lf.api.score_configs.create(name=f"review {run}-{major}"[-20:], data_type="NUMERIC",
                                         min_value=0, max_value=1)
    summary["config_id"] = config.id
    queues = lf.api.annotation_queues
    name = f"compat-{run}-{major}-triage"
    queue = queues.create_queue(name=name, description="answers to check", score_config_ids=[config.id])
    summary["queue"] = {"id": queue.id, "name": queue.name, "description": queue.description,
                        "score_config_ids": list(queue.score_config_ids)}
    summary["queue_read"] = queues.get_queue(queue.id).name
    listed = queues.list_queues(limit=100)
    summary["queue_listed"] = any(q.id == queue.id for q in listed.data)

    trace_item = queues.create_queue_item(queue.id, object_id=summary["trace_id"], object_type="TRACE")
    observation_item = queues.create_queue_item(queue.id, object_id=summary["observation_id"],
                                                object_type="OBSERVATION")
    session_item = queues.create_queue_item(queue.id, object_id=session_id, object_type="SESSION",
                                            status="COMPLETED")
    summary["items"] = [item_summary(i) for i in (trace_item, observation_item, session_item)]
    page = queues.list_queue_items(queue.id, limit=1)
    summary["items_page"] = {"total": page.meta.total_items, "pages": page.meta.total_pages,
                             "count": len(page.data)}
    summary["pending"] = sorted(i.id for i in queues.list_queue_items(queue.id, status="PENDING").data)
    summary["got_item"] = item_summary(queues.get_queue_item(queue.id, trace_item.id))
    summary["completed_item"] = item_summary(
        queues.update_queue_item(queue.id, trace_item.id, status="COMPLETED"))
    deleted = queues.delete_queue_item(queue.id, observation_item.id)
    summary["deleted_item"] = {"success": deleted.success, "message": deleted.message}
    summary["after_delete"] = error_of(lambda: queues.get_queue_item(queue.id, observation_item.id))
    summary["unassigned"] = queues.delete_queue_assignment(queue.id, user_id="nobody-assigned").success

    comments = lf.api.comments
    ids = {}
    for object_type, object_id in [("TRACE", summary["trace_id"]), ("OBSERVATION", summary["observation_id"]),
                                   ("SESSION", session_id), ("PROMPT", summary["prompt_id"])]:
        created = comments.create(project_id="ignored", object_type=object_type, object_id=object_id,
                                  content=f"  on the {object_type.lower()}  ")
        ids[object_type] = created.id
    summary["comment_ids"] = ids
    summary["comment_read"] = comment_summary(comments.get_by_id(ids["TRACE"]))
    on_trace = comments.get(object_type="TRACE", object_id=summary["trace_id"])
    summary["comments_on_trace"] = [c.id for c in on_trace.data]
    summary["by_unknown_author"] = comments.get(author_user_id="nobody").meta.total_items
    paged = comments.get(limit=1, page=2)
    summary["comments_page"] = {"count": len(paged.data), "page": paged.meta.page}

    expected_from = len(collector.records)
    summary["errors"] = {
        "unknown_queue": error_of(lambda: queues.get_queue("absent-queue")),
        "items_of_unknown_queue": error_of(lambda: queues.list_queue_items("absent-queue")),
        "item_in_unknown_queue": error_of(
            lambda: queues.create_queue_item("absent-queue", object_id="t", object_type="TRACE")),
        "prompt_item": error_of(
            lambda: queues.create_queue_item(queue.id, object_id="p", object_type="PROMPT")),
        "duplicate_queue": error_of(
            lambda: queues.create_queue(name=name, score_config_ids=[config.id])),
        "unknown_config": error_of(
            lambda: queues.create_queue(name=f"{name}-unknown", score_config_ids=[config.id, "no-such-config"])),
        "unknown_user": error_of(lambda: queues.create_queue_assignment(queue.id, user_id="nobody")),
        "missing_object": error_of(
            lambda: comments.create(project_id="p", object_type="TRACE", object_id="absent-trace",
                                    content="x")),
        "bad_object_type": error_of(
            lambda: comments.create(project_id="p", object_type="SPAN", object_id="x", content="x")),
        "too_long": error_of(
            lambda: comments.create(project_id="p", object_type="TRACE", object_id=summary["trace_id"],
                                    content="x" * 5001)),
        "id_without_type": error_of(lambda: comments.get(object_id=summary["trace_id"])),
        "unknown_comment": error_of(lambda: comments.get_by_id("absent-comment")),
    }
    summary["expected_sdk_log"] = collector.records[expected_from:]
    del collector.records[expected_from:]
    finish(lf, summary, collector.records, timeout)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "v5")
