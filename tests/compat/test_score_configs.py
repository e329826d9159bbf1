"""Score configs with the official Python SDK 5.x and 4.x (`api.score_configs.create/get_by_id/
get/update`), scores that name a config through `create_score` and through the API client
(`api.scores.create`), the API client's answers to invalid ones (out of range, an unknown
category, an archived config), and the same with the JS SDK 5.x (`api.scoreConfigs.*`,
`score.create`, `api.scores.create`); all scores read back through the public API with their
config id."""

from compat_helpers import assert_clean_run, majors_fixture, scenario_fixture
from conftest import Check

SCENARIOS_USED = ["py_score_configs_v5", "py_score_configs_v4", "js_score_configs"]

run = majors_fixture("py_score_configs")
js_run = scenario_fixture("js_score_configs")


def test_sdk_run_clean(run):
    assert_clean_run(run)


def check_configs(ck, run, api):
    created = run["created"]
    accuracy, tone, correct = created["accuracy"], created["tone"], created["correct"]
    ck.eq(accuracy["data_type"], "NUMERIC", "numeric data type")
    ck.eq((accuracy["min_value"], accuracy["max_value"]), (0, 1), "numeric range")
    ck.eq(accuracy["description"], "share of right answers", "description")
    ck.eq(accuracy["is_archived"], False, "a new config is not archived")
    ck.eq(tone["categories"], [{"label": "rude", "value": 0}, {"label": "polite", "value": 1}], "categories")
    ck.eq(correct["categories"], [{"label": "True", "value": 1}, {"label": "False", "value": 0}],
          "boolean categories are generated")
    ck.eq(run["got"], tone, "get by id")
    ck.eq(run["page"]["count"], 2, "a page of two")
    ck.true(run["page"]["total"] >= 4, "every config counted")
    ck.eq(run["archived"]["is_archived"], True, "update archives")
    ck.eq(run["archived"]["description"], "retired", "update sets the description")
    ck.eq((run["missing_config"] or {}).get("status"), 404, "an unknown config is a 404")
    ck.eq((run["bad_config"] or {}).get("status"), 400, "min above max is a 400")
    ck.true("maxValue" in (run["bad_config"] or {}).get("text", ""), "the error names the field")
    read = api.get(f"/api/public/score-configs/{tone['id']}")
    ck.eq(read["categories"], tone["categories"], "read back through the public API")


def check_scores(ck, run, api, stored, refused):
    created = run["created"]
    scores = {s["id"]: s for s in api.scores_v2(traceId=run["trace_id"])}
    ck.eq(sorted(scores), sorted(run["ids"][key] for key in stored), "the valid scores are stored")
    for key in stored:
        score = scores.get(run["ids"][key]) or {}
        config = created[{"numeric": "accuracy", "categorical": "tone", "boolean": "correct"}[key.split("_")[1]]]
        ck.eq(score.get("configId"), config["id"], f"{key} config id")
        ck.eq(score.get("name"), config["name"], f"{key} name")
        ck.eq(score.get("dataType"), config["data_type"], f"{key} data type")
    categorical = scores.get(run["ids"]["sdk_categorical"]) or {}
    ck.eq((categorical.get("stringValue"), categorical.get("value")), ("polite", 1),
          "a category given by label gets its value")
    for key, words in refused.items():
        ck.true(run["ids"][key] not in scores, f"{key} is refused")
    v3 = api.get("/api/public/v3/scores", params={"configId": created["accuracy"]["id"], "fields": "details"})
    ck.true(all(s["configId"] == created["accuracy"]["id"] for s in v3["data"]) and v3["data"],
            "v3 details carry the config id")


REFUSED = {
    "api_range": ["1.5", "maximum"],
    "api_category": ["snarky", "category"],
    "api_archived": ["archived"],
}


def test_configs_and_scores(api, run):
    ck = Check(f"python {run['major']} score configs")
    check_configs(ck, run, api)
    stored = ["sdk_numeric", "sdk_categorical", "sdk_boolean", "api_numeric", "api_categorical"]
    check_scores(ck, run, api, stored, REFUSED)
    if run["major"] == "v5":
        batch = run["api_batch"]
        ck.eq((batch["accepted"], batch["rejected"]), (2, 3), "the API client's 207")
        messages = batch["errors"]
    else:
        single = run["api_single"]
        ck.eq(single["api_numeric"], None, "a valid score is accepted")
        ck.eq(single["api_categorical"], None, "a category by label is accepted")
        for key in REFUSED:
            ck.eq((single[key] or {}).get("status"), 400, f"{key} is a 400")
        messages = [(single[key] or {}).get("text", "") for key in REFUSED]
    for (key, words), message in zip(REFUSED.items(), messages):
        ck.true(all(word in message for word in words), f"{key} error names the reason: {message!r}")
    ck.done()


def test_js_sdk_run_clean(js_run):
    assert_clean_run(js_run)


def test_js_configs_and_scores(api, js_run):
    ck = Check("js score configs")
    check_configs(ck, js_run, api)
    stored = ["sdk_numeric", "sdk_categorical", "api_numeric", "api_categorical"]
    check_scores(ck, js_run, api, stored, REFUSED)
    single = js_run["api_single"]
    for key in REFUSED:
        ck.eq((single[key] or {}).get("status"), 400, f"{key} is a 400")
        ck.true(all(word in (single[key] or {}).get("text", "") for word in REFUSED[key]),
                f"{key} error names the reason")
    ck.done()
