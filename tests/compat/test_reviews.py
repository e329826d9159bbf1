"""Annotation queues and comments with the official Python SDK 5.x and 4.x API client
(`api.annotation_queues.*`, `api.comments.*`) and the JS SDK 5.x API client
(`api.annotationQueues.*`, `api.comments.*`): queues created, read and listed; trace,
observation and session items added, listed by status and page, read, completed and
removed; assignments; comments on a trace, an observation, a session and a prompt, listed
and read; and the errors (unknown queue 404, a prompt as a queue item 400, an unknown user
404, a comment on a missing object 404, an id filter without a type 400). All read back
through the public API."""

from compat_helpers import assert_clean_run, majors_fixture, scenario_fixture
from conftest import Check

SCENARIOS_USED = ["py_reviews_v5", "py_reviews_v4", "js_reviews"]

run = majors_fixture("py_reviews")
js_run = scenario_fixture("js_reviews")


def test_sdk_run_clean(run):
    assert_clean_run(run)


def status_of(error):
    return (error or {}).get("status")


def test_queue_created_and_items_reviewed(api, run):
    ck = Check(f"python {run['major']} annotation queues")
    queue = run["queue"]
    ck.eq(queue["description"], "answers to check", "description")
    ck.eq(queue["score_config_ids"], [run["config_id"]], "score config ids")
    ck.eq(run["queue_read"], queue["name"], "get_queue")
    ck.true(run["queue_listed"], "list_queues holds the queue")
    trace_item, observation_item, session_item = run["items"]
    ck.eq([i["object_type"] for i in run["items"]], ["TRACE", "OBSERVATION", "SESSION"], "object types")
    ck.eq([i["status"] for i in run["items"]], ["PENDING", "PENDING", "COMPLETED"], "statuses")
    ck.eq([i["completed"] for i in run["items"]], [False, False, True], "completedAt of a completed item")
    ck.eq(run["items_page"], {"total": 3, "pages": 3, "count": 1}, "one item a page")
    ck.eq(run["pending"], sorted([trace_item["id"], observation_item["id"]]), "pending items")
    ck.eq(run["got_item"], trace_item, "get_queue_item")
    ck.eq(run["completed_item"]["status"], "COMPLETED", "update_queue_item status")
    ck.true(run["completed_item"]["completed"], "update_queue_item sets completedAt")
    ck.eq(run["deleted_item"], {"success": True, "message": "Annotation queue item deleted successfully"},
          "delete_queue_item answer")
    ck.eq(status_of(run["after_delete"]), 404, "a removed item is gone")
    ck.eq(run["unassigned"], True, "removing an absent assignment succeeds")
    read = api.get(f"/api/public/annotation-queues/{queue['id']}/items", params={"status": "COMPLETED"})
    ck.eq(sorted(i["id"] for i in read["data"]), sorted([trace_item["id"], session_item["id"]]),
          "completed items read back")
    ck.done()


def test_comments_on_every_object_type(api, run):
    ck = Check(f"python {run['major']} comments")
    ids = run["comment_ids"]
    ck.eq(sorted(ids), ["OBSERVATION", "PROMPT", "SESSION", "TRACE"], "one comment per object type")
    read = run["comment_read"]
    ck.eq(read["content"], "on the trace", "content trimmed")
    ck.eq(read["object_type"], "TRACE", "object type")
    ck.eq(read["object_id"], run["trace_id"], "object id")
    ck.eq(read["author_user_id"], None, "no author")
    ck.eq(run["comments_on_trace"], [ids["TRACE"]], "listed by object")
    ck.eq(run["by_unknown_author"], 0, "listed by author")
    ck.eq(run["comments_page"], {"count": 1, "page": 2}, "one comment a page")
    prompt = api.get("/api/public/comments", params={"objectType": "PROMPT", "objectId": run["prompt_id"]})
    ck.eq([c["id"] for c in prompt["data"]], [ids["PROMPT"]], "the prompt's comment read back")
    session = api.get(f"/api/public/comments/{ids['SESSION']}")
    ck.eq(session["objectId"], run["session_id"], "the session's comment read back")
    ck.done()


def test_errors(run):
    ck = Check(f"python {run['major']} review errors")
    errors = run["errors"]
    for key, status in [("unknown_queue", 404), ("items_of_unknown_queue", 404), ("item_in_unknown_queue", 404),
                        ("prompt_item", 400), ("duplicate_queue", 400), ("unknown_config", 400), ("unknown_user", 404),
                        ("missing_object", 404), ("bad_object_type", 400), ("too_long", 400),
                        ("id_without_type", 400), ("unknown_comment", 404)]:
        ck.eq(status_of(errors[key]), status, key)
    for key, field in [("prompt_item", "objectType"), ("duplicate_queue", "name"), ("unknown_config", "scoreConfigIds"), ("unknown_user", "userId"),
                       ("missing_object", "objectId"), ("bad_object_type", "objectType"),
                       ("too_long", "content"), ("id_without_type", "objectType")]:
        ck.true(f"{field}:" in (errors[key] or {}).get("text", ""), f"{key} names {field}")
    ck.done()


def test_js_client(api, js_run):
    ck = Check("javascript annotation queues and comments")
    assert_clean_run(js_run)
    run = js_run
    ck.eq(run["queue"]["score_config_ids"], [run["config_id"]], "queue score config ids")
    ck.eq(run["queue_read"], run["queue"]["name"], "getQueue")
    ck.true(run["queue_listed"], "listQueues holds the queue")
    trace_item, session_item = run["items"]
    ck.eq([trace_item["status"], session_item["status"]], ["PENDING", "COMPLETED"], "statuses")
    ck.eq(run["items_page"], {"total": 2, "pages": 2, "count": 1}, "page 2 of one item a page")
    ck.eq(run["completed_ids"], [session_item["id"]], "listed by status")
    ck.eq(run["got_item"], trace_item, "getQueueItem")
    ck.true(run["completed_item"]["completed"], "updateQueueItem sets completedAt")
    ck.eq(run["deleted_item"]["success"], True, "deleteQueueItem")
    ck.eq(run["unassigned"], True, "deleteQueueAssignment")
    ids = run["comment_ids"]
    ck.eq(run["comment_read"]["content"], "on the trace", "getById")
    ck.eq(run["comments_on_session"], [ids["SESSION"]], "listed by object")
    observation = api.get("/api/public/comments", params={"objectType": "OBSERVATION", "objectId": run["observation_id"]})
    ck.eq([c["id"] for c in observation["data"]], [ids["OBSERVATION"]], "the observation's comment read back")
    items = api.get(f"/api/public/annotation-queues/{run['queue']['id']}/items")
    ck.eq([i["id"] for i in items["data"]], [trace_item["id"]], "one item left")
    for key, status in [("unknown_queue", 404), ("item_in_unknown_queue", 404), ("prompt_item", 400),
                        ("unknown_user", 404), ("missing_object", 404), ("id_without_type", 400),
                        ("unknown_comment", 404)]:
        ck.eq(status_of(run["errors"][key]), status, key)
    ck.done()
