"""Legacy Python SDK langfuse<3 (batch ingestion) against Spindle: the
tracing-tutorial examples of seed 000, with a fake LLM."""

from urllib.parse import quote

from compat_helpers import (assert_clean_run, check_obs, check_score, check_times, check_trace, obs_map, read_trace,
                            scenario_fixture, sdk_reads)
from conftest import Check

# scenarios this module reads (started together when COMPAT_PARALLEL=1)
SCENARIOS_USED = ["py_v2"]

run = scenario_fixture("py_v2")


def test_sdk_run_clean(run):
    assert_clean_run(run)
    assert run["auth_check"] is True, f"langfuse.auth_check() returned {run['auth_check']!r}"


def test_manual_trace_spans_generation_events(api, run):
    ck = Check("v2 manual trace")
    ids = run["manual"]
    t, obs = read_trace(api, ids["trace"])
    check_trace(ck, t, name="v2-support-query", user_id=ids["user_id"], session_id=ids["session_id"],
                tags=["production", "support"], metadata={"plan": "pro", "source": "web-chat"},
                output={"final": "done"}, environment="default", observations=(obs, 8))
    check_times(ck, obs)
    docs = [
        "Reset via Settings > Security > Change Password",
        "Send a password-reset email from the login page",
    ]
    check_obs(ck, obs, ids["retrieval"], name="retrieval", type="SPAN", parent=None,
              input={"query": "How do I reset my password?"}, output=docs)
    rerank = [o for o in obs.values() if o.get("name") == "rerank"]
    ck.eq(len(rerank), 1, "events named rerank")
    if rerank:
        check_obs(ck, obs, rerank[0]["id"], name="rerank", type="EVENT", parent=ids["retrieval"],
                  level="DEFAULT", input={"candidates_before": 10, "candidates_after": 3})
    check_obs(ck, obs, ids["llm_span"], name="llm-answer", type="SPAN", parent=None,
              input={"context": docs, "question": "How do I reset my password?"}, output=ids["answer"])
    check_obs(ck, obs, ids["generation"], name="llm-generation", type="GENERATION", parent=ids["llm_span"],
              model="gpt-4o-mini", model_parameters={"temperature": 0.5, "max_tokens": 100},
              input=[{"role": "user", "content": "How do I reset my password?"}],
              output=ids["answer"], usage=ids["usage"])
    check_obs(ck, obs, ids["tool"], name="tool-call", type="SPAN", parent=None,
              input={"cmd": "GET /users/123"}, output={"status": 200, "body": {"name": "Alice"}},
              metadata={"service": "users-api", "region": "us-east-1", "latency_ms": 42},
              level="DEFAULT", status_message="OK", version="1.2.0")
    check_obs(ck, obs, ids["event_cache"], name="cache-hit", type="EVENT", parent=None, level="DEBUG",
              input={"cache_key": "query_abc123", "ttl_seconds": 300})
    check_obs(ck, obs, ids["event_warn"], name="rate-limit-warning", type="EVENT", parent=None,
              level="WARNING", input={"provider": "openai", "retry_after_seconds": 5})
    check_obs(ck, obs, ids["db_span"], name="db-call", type="SPAN", parent=None, level="ERROR",
              status_message="connection refused", output={"error": "connection refused"},
              input={"query": "SELECT * FROM users"})
    scores = [s for s in t.get("scores", []) if isinstance(s, dict)]
    check_score(ck, scores, "helpfulness", data_type="NUMERIC", value=0.92,
                comment="Answered correctly with context.", trace_id=ids["trace"], observation_id=None,
                where="(trace detail)")
    check_score(ck, scores, "error", data_type="NUMERIC", value=1, comment="connection refused",
                where="(trace detail)")
    check_score(ck, scores, "gen-quality", data_type="CATEGORICAL", string_value="good",
                observation_id=ids["generation"], where="(trace detail)")
    ck.done()


def test_observe_decorator_with_langfuse_context(api, run):
    ck = Check("v2 @observe + langfuse_context")
    ids = run["decorator"]
    session_id = run["manual"]["session_id"]
    t, obs = read_trace(api, ids["trace"])
    # Metadata values are JSON-parsed on read (wire spec §3.5, as the Langfuse
    # server does), so the string "2.1" comes back as the number 2.1.
    check_trace(ck, t, name="rag_pipeline", user_id=ids["user_id"], session_id=session_id,
                tags=["production", "rag", "support"], metadata={"pipeline_version": 2.1},
                input={"args": ["How do I reset my password?"], "kwargs": {"user_id": ids["user_id"]}},
                output=ids["result"], observations=(obs, 3))
    check_obs(ck, obs, ids["embed_query"], name="embed_query", type="SPAN", parent=None,
              input={"args": ["How do I reset my password?"], "kwargs": {}}, output=[0.1, 0.2, 0.3],
              metadata={"model": "text-embedding-3-small", "dimensions": 1536})
    check_obs(ck, obs, ids["vector_search"], name="vector_search", type="SPAN", parent=None,
              metadata={"top_k": 5, "results_returned": 2})
    check_obs(ck, obs, ids["generate_response"], name="generate_response", type="GENERATION", parent=None,
              model="gpt-4o-mini", usage=ids["usage"], output=ids["result"])
    scores = [s for s in t.get("scores", []) if isinstance(s, dict)]
    check_score(ck, scores, "completeness", data_type="NUMERIC", value=0.85, trace_id=ids["trace"],
                where="(score_current_trace)")
    check_score(ck, scores, "context_relevance", data_type="NUMERIC", value=0.91,
                comment="Top document directly answers the question.", where="(score_current_trace)")
    # both the manual and the decorated trace belong to the same session
    sess = api.get(f"/api/public/sessions/{session_id}")
    ck.eq(sorted(x.get("id") for x in sess.get("traces", [])), sorted([run["manual"]["trace"], ids["trace"]]),
          f"GET /api/public/sessions/{session_id} traces")
    ck.done()


def test_async_and_gather(api, run):
    ck = Check("v2 async + asyncio.gather")
    ids = run["async"]
    c = ids["children"]
    t, obs = read_trace(api, ids["trace"])
    check_trace(ck, t, name="async_rag_pipeline", input={"args": ["What is Langfuse?"], "kwargs": {}},
                output=ids["result"], observations=(obs, 5))
    check_obs(ck, obs, c["fetch_documents"], name="fetch_documents", type="SPAN", parent=None,
              output=["Doc A", "Doc B", "Doc C"])
    check_obs(ck, obs, c["parallel_retrieval"], name="parallel_retrieval", type="SPAN", parent=None,
              output={"vector": ["v1", "v2"], "keyword": ["k1"]})
    check_obs(ck, obs, c["vector_search_async"], name="vector_search_async", type="SPAN",
              parent=c["parallel_retrieval"], output=["v1", "v2"])
    check_obs(ck, obs, c["keyword_search"], name="keyword_search", type="SPAN",
              parent=c["parallel_retrieval"], output=["k1"])
    check_obs(ck, obs, c["call_llm"], name="call_llm", type="SPAN", parent=None, output=ids["result"])
    ck.done()


def test_exception_inside_observe(api, run):
    ck = Check("v2 exception in @observe")
    ids = run["exception"]
    ck.eq(ids.get("raised"), True, "the exception propagated to the caller")
    t, obs = read_trace(api, ids["trace"])
    check_trace(ck, t, name="failing_pipeline", output="recovered")
    check_obs(ck, obs, ids["span"], name="failing_step", type="SPAN", parent=None, level="ERROR",
              status_message="v2 boom")
    ck.done()


def test_sdk_fetch_helpers(run):
    """langfuse<3's fetch_* helpers (pydantic models) read what the server returns."""
    ck = Check("v2 fetch_* reads")
    reads = sdk_reads(ck, run)
    m = run["manual"]
    obs_ids = sorted([m["retrieval"], m["llm_span"], m["generation"], m["tool"], m["event_cache"], m["event_warn"],
                      m["db_span"]])
    want = {
        "fetch_traces(user_id)": [m["trace"]],
        "fetch_observation": "gpt-4o-mini",
    }
    for label, value in want.items():
        r = reads.get(label, {})
        if r.get("ok"):
            ck.eq(r.get("value"), value, label)
    r = reads.get("fetch_trace", {})
    if r.get("ok"):
        v = r["value"]
        ck.eq(v.get("name"), "v2-support-query", "fetch_trace().name")
        ck.true(set(obs_ids) <= set(v.get("observations") or []), f"fetch_trace().observations: {v.get('observations')}")
        ck.eq(v.get("scores"), ["error", "gen-quality", "helpfulness"], "fetch_trace().scores names")
    r = reads.get("fetch_observations(trace_id)", {})
    if r.get("ok"):
        ck.true(set(obs_ids) <= set(r["value"]), f"fetch_observations(trace_id): {r['value']}")
        ck.eq(len(r["value"]), 8, "fetch_observations(trace_id) count")
    r = reads.get("fetch_sessions", {})
    if r.get("ok"):
        ck.true(m["session_id"] in r["value"], f"fetch_sessions(): {m['session_id']} not in {r['value']}")
    ck.done()


def test_caller_chosen_trace_id_with_special_characters(api, run):
    """Trace ids are caller-chosen strings in the batch API; one with ':', ' ',
    '/', '?', '#' and non-ASCII is stored and readable by its percent-encoded path."""
    ck = Check("special-character trace id")
    ids = run["external_id"]
    t = api.get(f"/api/public/traces/{quote(ids['trace'], safe='')}")
    check_trace(ck, t, id=ids["trace"], name="v2-external-id")
    check_obs(ck, obs_map(t), ids["span"], name="ext-span", parent=None, output="ext-out", trace_id=ids["trace"])
    listed = api.get("/api/public/traces", params={"name": "v2-external-id", "limit": 10}).get("data", [])
    ck.eq([x.get("id") for x in listed], [ids["trace"]], "GET /api/public/traces?name=v2-external-id ids")
    obs = api.get("/api/public/observations", params={"traceId": ids["trace"], "limit": 10}).get("data", [])
    ck.eq([o.get("id") for o in obs], [ids["span"]], "GET /api/public/observations?traceId=<special id>")
    ck.done()
