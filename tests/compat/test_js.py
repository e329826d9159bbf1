"""JS SDK @langfuse/tracing + @langfuse/otel + @langfuse/client 5.x against Spindle."""

import datetime as dt
import hashlib

import pytest

from compat_helpers import (assert_clean_run, check_expected_scores, check_obs, check_score, check_times,
                            check_prompt_and_environment, check_trace, check_trace_derived_times, obs_map,
                            read_trace, sdk_reads)
from conftest import Check

TYPES = ["span", "generation", "agent", "tool", "chain", "retriever", "embedding", "evaluator", "guardrail"]

# scenarios this module reads (started together when COMPAT_PARALLEL=1)
SCENARIOS_USED = ["js", "js_immediate"]


@pytest.fixture(scope="module", params=["default", "immediate"])
def run(request, scenario):
    """default: batched OTLP/JSON; immediate: exportMode "immediate" (one
    request per span, children before parents) with gzip bodies."""
    return scenario("js" if request.param == "default" else "js_immediate")


def test_sdk_run_clean(run):
    assert_clean_run(run)


def test_start_active_observation_every_as_type(api, run):
    ck = Check("js types")
    ids = run["types"]
    t, obs = read_trace(api, ids["trace"])
    check_trace(ck, t, name=f"{run['prefix']}-types", input={"all": "types"}, output={"done": True},
                environment="compat", release="rel-js")
    check_obs(ck, obs, ids["root"], name=f"{run['prefix']}-types", type="SPAN", parent=None,
              input={"all": "types"}, output={"done": True}, environment="compat")
    for ty in TYPES:
        check_obs(ck, obs, ids["children"][ty], name=f"js-{ty}", type=ty.upper(), parent=ids["root"],
                  input={"t": ty}, output=f"out-{ty}")
    check_obs(ck, obs, ids["children"]["event"], name="js-event", type="EVENT", parent=ids["root"],
              input={"e": 1}, level="WARNING")
    check_obs(ck, obs, ids["active_agent"], name="js-active-agent", type="AGENT", parent=ids["root"],
              output="agent-done")
    check_obs(ck, obs, ids["agent_tool"], name="js-agent-tool", type="TOOL", parent=ids["active_agent"],
              input="q", output="a")
    ck.eq(len(obs), 1 + len(TYPES) + 1 + 2, "number of observations")
    check_times(ck, obs)
    check_trace_derived_times(ck, t, obs)
    ck.done()


def test_generation_fields(api, run):
    ck = Check("js generation")
    ids = run["generations"]
    t, obs = read_trace(api, ids["trace"])
    check_obs(
        ck, obs, ids["full"], name="js-gen", type="GENERATION", parent=ids["root"],
        input=[{"role": "user", "content": "hi"}], output={"role": "assistant", "content": "yo"},
        model="gpt-4o", model_parameters={"temperature": 0.3, "maxTokens": 50},
        usage={"input": 10, "output": 5, "total": 15}, cost={"input": 0.01, "output": 0.02, "total": 0.03},
        completion_start_time=dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=dt.timezone.utc),
        metadata={"k": "v"}, version="gen-v1", level="DEFAULT",
    )
    check_obs(ck, obs, ids["failed"], name="js-gen-failed", type="GENERATION", parent=ids["root"],
              model="gpt-4o", level="ERROR", status_message="js rate limited")
    ck.done()


def test_propagate_attributes(api, run):
    ck = Check("js propagateAttributes")
    ids = run["propagate"]
    t, obs = read_trace(api, ids["trace"])
    check_trace(ck, t, name=ids["trace_name"], user_id=ids["user_id"], session_id=ids["session_id"],
                tags=["jt1", "jt2", "jt3"], metadata={"tenant": "acme", "tier": "gold", "extra": "x"},
                version="js-app-v2", input={"traceIn": 1}, output={"traceOut": 2})
    check_obs(ck, obs, ids["root"], name=f"{run['prefix']}-prop-root", type="SPAN", parent=None)
    check_obs(ck, obs, ids["child"], name="js-prop-child", type="GENERATION", parent=ids["root"])
    check_obs(ck, obs, ids["grandchild"], name="js-prop-grandchild", type="SPAN", parent=ids["child"])
    listed = api.get("/api/public/traces", params={"userId": ids["user_id"], "limit": 100})
    ck.eq([x.get("id") for x in listed.get("data", [])], [ids["trace"]], "GET /api/public/traces?userId=")
    sess = api.get(f"/api/public/sessions/{ids['session_id']}")
    ck.eq([x.get("id") for x in sess.get("traces", [])], [ids["trace"]], "session.traces ids")
    ck.done()


def test_propagated_prompt_and_environment(api, run):
    """propagateAttributes({environment, prompt}): environment on trace and
    observations, the prompt link on the generation only."""
    check_prompt_and_environment(api, run, "js propagated prompt + environment")


def test_observe_wrapper(api, run):
    ck = Check("js observe()")
    ids = run["observe"]
    t, obs = read_trace(api, ids["trace"])
    check_trace(ck, t, name=f"{run['prefix']}-observed", observations=(obs, 2))
    check_obs(ck, obs, ids["outer"], name=f"{run['prefix']}-observed", type="CHAIN", parent=None,
              input=[21, "why"], output={"doubled": 42, "y": "why"})
    check_obs(ck, obs, ids["children"]["inner"], name="jsInner", type="TOOL", parent=ids["outer"],
              input=21, output=42)
    ck.done()


def test_observe_sync_function(api, run):
    ck = Check("js observe() on a synchronous function")
    ids = run["observe_sync"]
    ck.eq(ids.get("result"), 5, "return value passed through")
    t = api.trace(ids["trace"])
    check_obs(ck, obs_map(t), ids["span"], name=f"{run['prefix']}-sync-observed", type="TOOL", parent=None,
              input=[2, 3], output=5)
    ck.eq(t.get("name"), f"{run['prefix']}-sync-observed", "trace.name")
    ck.done()


def test_observe_failing_function(api, run):
    ck = Check("js observe() on a throwing function")
    ids = run["exception"]
    ck.eq(ids.get("raised"), True, "the error propagated to the caller")
    t, obs = read_trace(api, ids["trace"])
    check_obs(ck, obs, ids["span"], name=f"{run['prefix']}-failing", type="SPAN", parent=None, level="ERROR",
              status_message="js boom", output={"error": "Error: js boom"})
    ck.done()


def test_parent_span_context_with_seeded_trace_id(api, run):
    ck = Check("js createTraceId(seed) + parentSpanContext")
    ids = run["trace_context"]
    expected = hashlib.sha256(ids["seed"].encode()).digest()[:16].hex()
    ck.eq(ids["trace"], expected, "createTraceId(seed) (SDK side)")
    t, obs = read_trace(api, expected)
    check_obs(ck, obs, ids["span"], name="js-linked", type="SPAN", parent=ids["parent"], input="linked",
              trace_id=expected)
    ck.done()


def test_scores_via_client(api, run):
    ck = Check("js scores")
    ids = run["scores"]
    tid, oid, sid = ids["trace"], ids["child"], ids["session_id"]
    by_trace = api.scores_v2(traceId=tid)
    for kind, obs_id in (("trace", None), ("obs", oid)):
        check_expected_scores(ck, by_trace, kind, trace_id=tid, observation_id=obs_id)
    check_score(ck, by_trace, "trace-num", data_type="NUMERIC", value=0.7, comment="ok", metadata={"a": 1})
    check_score(ck, by_trace, "obs-method-num", data_type="NUMERIC", value=0.25, observation_id=oid)
    check_score(ck, by_trace, "trace-method-cat", data_type="CATEGORICAL", string_value="ok",
                observation_id=None)
    check_score(ck, by_trace, "active-obs-bool", data_type="BOOLEAN", value=1, string_value="True",
                observation_id=ids["root"])
    check_score(ck, by_trace, "active-trace-num", data_type="NUMERIC", value=4, comment="4 of 5",
                observation_id=None)
    ck.eq(len(by_trace), 12, "number of scores listed for the trace")
    by_session = api.scores_v2(sessionId=sid)
    check_expected_scores(ck, by_session, "sess", session_id=sid, trace_id=None)
    ck.eq(len(by_session), 4, "number of scores listed for the session")
    t = api.trace(tid)
    ck.eq(t.get("sessionId"), sid, "trace.sessionId (propagated)")
    ck.eq(len([s for s in t.get("scores", []) if isinstance(s, dict)]), 12, "trace detail: number of scores")
    ck.done()


def test_single_score_reads(api, api_b, run):
    """Scores of every data type read back one by one through @langfuse/client
    (GET /api/public/v2/scores/{id}); 404 for an absent id and for another project's key."""
    ck = Check("js v2 single score reads")
    reads = sdk_reads(ck, run)
    srd = run["score_reads"]
    for kind, data_type, value, string_value in (("num", "NUMERIC", 0.25, None), ("cat", "CATEGORICAL", 0, "great"),
                                                 ("bool", "BOOLEAN", 1, "True")):
        want = {"id": srd["ids"][kind], "name": f"by-id-{kind}", "dataType": data_type, "value": value,
                "stringValue": string_value, "traceId": srd["trace"]}
        r = reads.get(f"api.scores.getById({kind})")
        ck.true(r is not None, f"api.scores.getById({kind}): not run by the scenario")
        if r and r.get("ok"):
            ck.eq(r["value"], want, f"api.scores.getById({kind})")
        ck.eq(api_b.get(f"/api/public/v2/scores/{srd['ids'][kind]}", expect=404).get("error"),
              "LangfuseNotFoundError", f"v2 score {kind} read with project B's keys")
    r = reads.get("api.scores.getById(absent)") or {}
    ck.eq(r.get("value"), 404, "api.scores.getById(absent id): status")
    ck.done()


def test_client_rest_reads(run):
    """@langfuse/client's REST API reads what the server returns."""
    ck = Check("js REST reads")
    reads = sdk_reads(ck, run)
    g = run["generations"]
    r = reads.get("api.trace.get", {})
    if r.get("ok"):
        ck.eq(r["value"], {"name": f"{run['prefix']}-generations", "observations": sorted([g["root"], g["full"], g["failed"]])},
              "langfuse.api.trace.get")
    r = reads.get("api.sessions.get", {})
    if r.get("ok"):
        ck.eq(r["value"], [run["propagate"]["trace"]], "langfuse.api.sessions.get traces")
    ck.done()


def test_media_data_uri_upload(api, run):
    """The span processor uploads a base64 data URI found in the input and
    stores a media reference in its place."""
    import base64
    import hashlib

    from scenarios._common import PNG_1X1_B64

    ck = Check("js media")
    ids = run["media"]
    media_id = base64.urlsafe_b64encode(hashlib.sha256(base64.b64decode(PNG_1X1_B64)).digest()).decode()[:22]
    t = api.trace(ids["trace"])
    check_obs(ck, obs_map(t), ids["span"], name=f"{run['prefix']}-media",
              input={"image": f"@@@langfuseMedia:type=image/png|id={media_id}|source=base64_data_uri@@@",
                     "caption": "pixel"})
    ck.done()
