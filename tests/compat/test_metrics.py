"""The metrics API (GET /api/public/v2/metrics and the legacy GET /api/public/metrics) with the
official Python SDK 5.x and 4.x (`api.metrics.metrics`, and with 4.x
`api.legacy.metrics_v1.metrics`) and the JS SDK 5.x (`api.metrics.metrics`,
`api.legacy.metricsV1.metrics`): generations the SDK exported, grouped by model and counted,
their tokens summed, traces counted per day, and a bad query answered 400 with its field."""

import datetime as dt

from compat_helpers import assert_clean_run, majors_fixture, scenario_fixture
from conftest import Check

SCENARIOS_USED = ["py_metrics_v5", "py_metrics_v4", "js_metrics"]

run = majors_fixture("py_metrics")
js_run = scenario_fixture("js_metrics")

BY_MODEL = [
    {"providedModelName": "claude-3-haiku", "count_count": "1", "sum_totalTokens": 2},
    {"providedModelName": "gpt-4o", "count_count": "2", "sum_totalTokens": 45},
]


def test_sdk_run_clean(run):
    assert_clean_run(run)


def test_v2_groups_the_exported_generations(run):
    ck = Check(f"python {run['major']} metrics v2")
    ck.eq(run["v2"], BY_MODEL, "observations by model")
    ck.done()


def test_v1_counts_traces_per_day(run):
    ck = Check(f"python {run['major']} metrics v1")
    ck.eq(run["has_v1_client"], run["major"] == "v4", "the legacy metrics client exists in 4.x only")
    if run["has_v1_client"]:
        today = dt.datetime.now(dt.timezone.utc).date()
        rows = [r for r in run["v1"] if r["count_count"] != "0"]
        ck.eq([r["name"] for r in rows], [run["trace_name"]], "one trace of that name")
        ck.true(rows and rows[0]["time_dimension"] in (str(today), str(today - dt.timedelta(days=1))),
                f"a day bucket: {rows}")
    ck.done()


def test_bad_query_is_a_400(run):
    ck = Check(f"python {run['major']} metrics errors")
    bad = run["bad_dimension"] or {}
    ck.eq(bad.get("status"), 400, "an unknown dimension")
    ck.true("Invalid dimension" in bad.get("text", ""), f"the message names it: {bad}")
    ck.done()


def test_js_metrics(js_run):
    assert_clean_run(js_run)
    ck = Check("javascript metrics")
    ck.eq(js_run["v2"], BY_MODEL, "observations by model")
    ck.eq(js_run["v1"], [{"name": js_run["trace_name"], "count_count": "1"}], "traces by name (v1)")
    bad = js_run["bad_metric"] or {}
    ck.eq(bad.get("status"), 400, "an unknown metric")
    ck.true("query.metrics[0].measure" in bad.get("text", ""), f"the message names the field: {bad}")
    ck.done()


def test_raw_query_parameter_errors(api):
    ck = Check("metrics query parameter")
    for query, field in [
        ("not json", "query"),
        ('{"view": "traces", "metrics": [{"measure": "count", "aggregation": "median"}], '
         '"fromTimestamp": "2001-01-01T00:00:00Z", "toTimestamp": "2001-01-02T00:00:00Z"}',
         "query.metrics[0].aggregation"),
        ('{"view": "traces", "metrics": [{"measure": "count", "aggregation": "count"}], '
         '"fromTimestamp": "2001-01-01T00:00:00Z"}', "query.toTimestamp"),
    ]:
        body = api.get("/api/public/v2/metrics", params={"query": query}, expect=400)
        ck.true(str(body.get("message", "")).startswith(field), f"{field} named: {body}")
    traces = ('{"view": "traces", "metrics": [{"measure": "count", "aggregation": "count"}], '
              '"fromTimestamp": "2001-01-01T00:00:00Z", "toTimestamp": "2001-01-02T00:00:00Z"}')
    body = api.get("/api/public/v2/metrics", params={"query": traces}, expect=400)
    ck.true(str(body.get("message", "")).startswith("query.view"), f"v2 has no traces view: {body}")
    body = api.get("/api/public/metrics", params={"query": traces})
    ck.eq(body, {"data": [{"count_count": "0"}]}, "v1 counts the traces of an empty day")
    ck.done()
