"""Prompt management with the official SDKs: the Python SDK 5.x and 4.x
(`create_prompt`, `get_prompt` by label and version, `compile`, `update_prompt`,
a generation linked to the prompt, `api.prompts.list/get/delete`, a missing prompt,
a fallback, an invalid label) and the JS SDK 5.x (`@langfuse/client`
`prompt.create/get/update`), read back through the public API; plus the
serving protocol (ETag, 304, cache headers) over raw HTTP."""

import pytest

from compat_helpers import assert_clean_run, encoded, majors_fixture
from conftest import Check

SCENARIOS_USED = ["py_prompts_v5", "py_prompts_v4", "js_prompts"]

run = majors_fixture("py_prompts")


@pytest.fixture(scope="module")
def js_run(scenario):
    return scenario("js_prompts")


def test_sdk_run_clean(run):
    assert_clean_run(run)


def test_create_get_and_compile(run):
    ck = Check(f"python {run['major']} prompts")
    major = run["major"]
    ck.eq(run["created"]["version"], 1, "first version")
    ck.eq(sorted(run["created"]["labels"]), ["latest", "production"], "labels of the first version")
    ck.eq(sorted(run["created"]["tags"]), sorted(["films", major]), "tags")
    ck.eq(run["created"]["commit_message"], "first version", "commit message")
    production = run["production"]
    ck.eq(production["version"], 1, "production version")
    ck.eq(production["is_fallback"], False, "served by the server")
    ck.eq(production["config"], {"model": "gpt-4o", "temperature": 0.5}, "config")
    ck.eq(production["compiled"], "As a expert critic, do you like Dune 2?", "compiled text")
    ck.eq(sorted(production["variables"]), ["criticlevel", "movie"], "variables")
    ck.eq(run["second"]["version"], 2, "second version")
    ck.eq(run["second"]["labels"], ["latest"], "second version's labels")
    ck.eq(sorted(run["second"]["tags"]), sorted(["films", major]), "tags kept")
    ck.eq(run["by_version"], "As a {{criticlevel}} critic, do you like {{movie}}?", "by version")
    ck.eq(run["latest_version"], 2, "latest label")
    ck.eq(run["updated_labels"], ["latest", "production"], "update_prompt answer")
    ck.eq(run["production_after_update"]["version"], 2, "production moved")
    ck.done()


def test_chat_prompt_with_placeholder(run):
    ck = Check(f"python {run['major']} chat prompt")
    ck.eq(run["chat_created"]["labels"], ["latest", "staging"], "labels")
    ck.eq(run["chat"]["version"], 1, "version")
    ck.eq(
        run["chat"]["compiled"],
        [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": "And now?"},
        ],
        "compiled messages with the placeholder filled",
    )
    ck.done()


def test_generation_links_to_the_prompt(api, run):
    ck = Check(f"python {run['major']} prompt link")
    name = run["text_name"]
    version_2 = api.get(f"/api/public/v2/prompts/{encoded(name)}", params={"version": 2})
    o = api.get(f"/api/public/observations/{run['generation']}")
    ck.eq(o["type"], "GENERATION", "type")
    ck.eq(o["promptName"], name, "promptName")
    ck.eq(o["promptVersion"], 2, "promptVersion")
    ck.eq(o["promptId"], version_2["id"], "promptId")
    listed = api.get("/api/public/observations", params={"promptName": name, "promptVersion": 2})
    ck.eq([item["id"] for item in listed["data"]], [run["generation"]], "filtered by prompt")
    ck.done()


def test_api_client_list_get_delete(api, run):
    ck = Check(f"python {run['major']} api.prompts")
    name = run["text_name"]
    ck.eq(run["listed_total"], 1, "one prompt of that name")
    ck.eq(run["listed"][0]["name"], name, "listed name")
    ck.eq(run["listed"][0]["versions"], [1, 2], "listed versions")
    ck.eq(run["listed"][0]["labels"], ["latest", "production"], "listed labels")
    ck.eq(run["api_get"]["version"], 1, "api.prompts.get by version")
    ck.eq(run["api_get"]["type"], "text", "type")
    if run["major"] == "v5":
        ck.eq(run["has_delete"], True, "api.prompts.delete exists in 5.x")
    if run["has_delete"]:
        ck.eq(run["after_delete"], [2], "version 1 deleted")
        api.get(f"/api/public/v2/prompts/{encoded(name)}", params={"version": 1}, expect=404)
    ck.done()


def test_error_cases(run):
    ck = Check(f"python {run['major']} prompt errors")
    ck.eq((run["missing"] or {}).get("type"), "NotFoundError", "missing prompt")
    ck.eq((run["missing"] or {}).get("status"), 404, "missing prompt status")
    ck.eq(run["fallback"], {"is_fallback": True, "prompt": "Fallback {{x}}"}, "fallback")
    ck.eq((run["bad_label"] or {}).get("status"), 400, "invalid label")
    ck.true("labels[0]" in (run["bad_label"] or {}).get("text", ""), f"names the field: {run['bad_label']}")
    ck.eq((run["bad_update"] or {}).get("status"), 404, "update of a missing version")
    ck.done()


def test_js_client_prompts(api, js_run):
    assert_clean_run(js_run)
    ck = Check("js prompts")
    ck.eq(js_run["created"]["version"], 1, "created")
    ck.eq(js_run["text"]["prompt"], "Hello {{name}}", "get by label")
    ck.eq(js_run["text"]["compiled"], "Hello Ada", "compile")
    ck.eq(js_run["chat"]["compiled"], [
        {"role": "system", "content": "Be brief, Ada."},
        {"role": "user", "content": "Hi"},
    ], "chat compile with placeholder")
    ck.eq(js_run["second_version"], 2, "second version")
    ck.eq(js_run["by_version"], "Hello {{name}}", "get by version")
    ck.eq(sorted(js_run["updated_labels"]), ["latest", "production"], "update labels")
    ck.eq(js_run["production_after_update"], 2, "production moved")
    ck.true(js_run["missing_error"], "a missing prompt is an error")
    o = api.get(f"/api/public/observations/{js_run['generation']}")
    ck.eq(o["promptName"], js_run["name"], "generation's promptName")
    ck.eq(o["promptVersion"], 2, "generation's promptVersion")
    ck.true(o["promptId"] is not None, "generation's promptId")
    ck.done()


def test_serving_protocol(api):
    name = "compat-serving/etag"
    created = api.raw("POST", "/api/public/v2/prompts", json={"name": name, "prompt": "x", "labels": ["production"]})
    assert created.status_code == 201, created.text
    path = f"/api/public/v2/prompts/{encoded(name)}"
    first = api.raw("GET", path)
    assert first.status_code == 200, first.text
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "max-age=0, must-revalidate"
    vary = [value.strip().lower() for value in first.headers["vary"].split(",")]
    assert "authorization" in vary, vary
    again = api.raw("GET", path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    api.raw("POST", "/api/public/v2/prompts", json={"name": name, "prompt": "y", "labels": ["production"]})
    changed = api.raw("GET", path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.json()["prompt"] == "y"
    unauthenticated = api.raw("GET", path, auth=("pk-lf-unknown", "sk-lf-unknown"))
    assert unauthenticated.status_code == 401
