"""Scenario for the OpenTelemetry-based Python SDKs (langfuse 4.x and 5.x).

Both majors expose the same tracing API; 4.x additionally has
``set_current_trace_io`` / ``span.set_trace_io``. Run through py_v5.py or
py_v4.py with the matching virtualenv. Every case makes its own trace and
records its ids in the summary; the pytest side asserts what the server
stored.
"""

import asyncio
import base64
import datetime as dt
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (  # noqa: E402
    PNG_1X1_B64,
    attr,
    bounded,
    env,
    install_log_collector,
    note_current,
    sdk_read,
    shut_down,
    take_records,
)

# usage_details as a user passes them; the tests hold what Langfuse stores for each
USAGE_SHAPES = {
    # OpenAI-looking keys, but no total_tokens: kept as sent
    "partial_openai": {"prompt_tokens": 10, "completion_tokens": 20},
    # a complete, strict Chat Completions usage object: converted
    "openai": {
        "prompt_tokens": 100,
        "completion_tokens": 50,
        "total_tokens": 150,
        "prompt_tokens_details": {"cached_tokens": 20},
        "completion_tokens_details": {"reasoning_tokens": 10},
    },
    # the same with one extra key: not strict, kept as sent
    "openai_extra_key": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3, "cache_hit": 4},
    # the Responses API's usage object: converted
    "responses": {
        "input_tokens": 30,
        "output_tokens": 12,
        "total_tokens": 42,
        "input_tokens_details": {"cached_tokens": 10},
        "output_tokens_details": {"reasoning_tokens": 4},
    },
    # Langfuse's own keys without total
    "custom_no_total": {"input": 5, "output": 7, "cache_read": 2},
}

# (kind, value, data_type) of the scores read back one by one
SCORE_READS = [("num", 0.25, "NUMERIC"), ("cat", "great", "CATEGORICAL"), ("bool", 1, "BOOLEAN")]

OBSERVATION_TYPES = [
    "span",
    "generation",
    "agent",
    "tool",
    "chain",
    "retriever",
    "embedding",
    "evaluator",
    "guardrail",
]


def main(major):
    collector = install_log_collector()

    import langfuse as langfuse_pkg
    from langfuse import Langfuse, observe, propagate_attributes

    run = env("COMPAT_RUN_ID")
    # prefix of every name this run creates; a variant (other transport
    # settings, same calls) gets its own so the runs don't collide
    variant = os.environ.get("COMPAT_VARIANT", "")
    p = f"py{major}{'-' + variant if variant else ''}"
    flush_timeout = float(os.environ.get("COMPAT_FLUSH_TIMEOUT", "30"))

    lf = Langfuse(
        public_key=env("LANGFUSE_PUBLIC_KEY"),
        secret_key=env("LANGFUSE_SECRET_KEY"),
        base_url=env("LANGFUSE_BASE_URL"),
        environment="compat",
        release=f"rel-{p}",
        # 4.x's flush() waits for the score consumer thread, which only sends
        # after flush_interval seconds: keep it short.
        flush_interval=1,
    )
    summary = {
        "sdk": "python",
        "sdk_version": getattr(langfuse_pkg, "__version__", None)
        or _dist_version("langfuse"),
        "major": major,
        "run": run,
        "prefix": p,
    }

    # ---- auth_check -----------------------------------------------------
    try:
        summary["auth_check"] = bool(lf.auth_check())
    except Exception as exc:  # noqa: BLE001
        summary["auth_check"] = f"error: {type(exc).__name__}: {exc}"

    # ---- @observe, sync and nested ----------------------------------------
    ids = {}

    @observe()
    def inner_sync(x):
        ids["inner"] = lf.get_current_observation_id()
        return x * 2

    @observe(name=f"{p}-outer-sync")
    def outer_sync(x):
        note_current(lf, ids, "trace", "outer")
        return {"doubled": inner_sync(x)}

    summary["observe_sync"] = {"result": outer_sync(21), **ids}

    # ---- @observe, async with asyncio.gather ------------------------------
    aids = {"fetch": {}}

    @observe(name="fetch")
    async def fetch(key):
        await asyncio.sleep(0.01)
        aids["fetch"][key] = lf.get_current_observation_id()
        return f"doc-{key}"

    @observe(name=f"{p}-outer-async")
    async def outer_async(question):
        note_current(lf, aids, "trace", "outer")
        docs = await asyncio.gather(fetch("a"), fetch("b"))
        return {"question": question, "docs": list(docs)}

    summary["observe_async"] = {"result": asyncio.run(outer_async("why?")), **aids}

    # ---- every as_type: decorator, context manager, manual, event ----------
    tids = {"observe": {}, "ctx": {}, "manual": {}}

    def make_typed(t):
        @observe(name=f"obs-{t}", as_type=t)
        def typed(v):
            tids["observe"][t] = lf.get_current_observation_id()
            return {"type": t, "v": v}

        return typed

    with lf.start_as_current_observation(name=f"{p}-types", input={"all": "types"}) as root:
        tids["trace"] = root.trace_id
        tids["root"] = root.id
        for t in OBSERVATION_TYPES:
            make_typed(t)(1)
        for t in OBSERVATION_TYPES:
            with lf.start_as_current_observation(name=f"ctx-{t}", as_type=t, input=f"in-{t}") as o:
                o.update(output=f"out-{t}")
                tids["ctx"][t] = o.id
        for t in OBSERVATION_TYPES:
            o = lf.start_observation(name=f"manual-{t}", as_type=t, input={"t": t})
            tids["manual"][t] = o.id
            o.end()
        ev = lf.create_event(name="ctx-event", input={"e": 1}, output="ev-out", level="WARNING")
        tids["event"] = ev.id
        root.update(output={"done": True})
    summary["types"] = tids

    # ---- generations: every field; update_current_generation ---------------
    gids = {}

    def fake_llm(prompt):
        return {"role": "assistant", "content": f"echo: {prompt}"}, {"input": 7, "output": 3, "total": 10}

    @observe(name="decorated-llm", as_type="generation")
    def decorated_llm(prompt):
        gids["decorated"] = lf.get_current_observation_id()
        reply, usage = fake_llm(prompt)
        lf.update_current_generation(
            model="fake-model-1",
            model_parameters={"temperature": 0.1},
            usage_details=usage,
            cost_details={"input": 0.0007, "output": 0.0003, "total": 0.001},
            metadata={"provider": "fake"},
        )
        return reply

    with lf.start_as_current_observation(name=f"{p}-generations") as root:
        gids["trace"] = root.trace_id
        gids["root"] = root.id
        with lf.start_as_current_observation(
            name="llm-call",
            as_type="generation",
            input=[{"role": "user", "content": "hi"}],
            model="gpt-4o-mini",
            model_parameters={"temperature": 0.2, "max_tokens": 100},
            completion_start_time=dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=dt.timezone.utc),
            metadata={"str": "s", "num": 1, "flag": True, "nested": {"a": [1, 2]}},
            version="v9",
        ) as gen:
            gids["full"] = gen.id
            gen.update(
                output={"role": "assistant", "content": "hello"},
                usage_details={"input": 10, "output": 5, "total": 15},
                cost_details={"input": 0.001, "output": 0.002, "total": 0.003},
            )
        gids["decorated_result"] = decorated_llm("ping")
        failed = lf.start_observation(
            name="llm-failed",
            as_type="generation",
            model="gpt-4o-mini",
            level="ERROR",
            status_message="rate limited",
        )
        gids["failed"] = failed.id
        failed.end()
    summary["generations"] = gids

    # ---- usage_details shapes: only a strict OpenAI usage object is converted -------
    uds = {}
    with lf.start_as_current_observation(name=f"{p}-usage-shapes") as root:
        uds["trace"] = root.trace_id
        uds["root"] = root.id
        for key, usage in USAGE_SHAPES.items():
            g = lf.start_observation(name=f"usage-{key}", as_type="generation", model="usage-shapes-model",
                                     usage_details=usage)
            uds[key] = g.id
            g.end()
    summary["usage_shapes"] = uds

    # ---- manual start_observation / end, with children ------------------------
    mids = {}
    mroot = lf.start_observation(name=f"{p}-manual-root", input={"q": "manual"})
    mids["trace"] = mroot.trace_id
    mids["root"] = mroot.id
    child = mroot.start_observation(name="manual-child", as_type="tool", input={"cmd": "ls"})
    mids["child"] = child.id
    grandchild = child.start_observation(name="manual-grandchild", as_type="span", input="deep")  # 3.x needs as_type
    mids["grandchild"] = grandchild.id
    grandchild.update(output="deeper")
    grandchild.end()
    child.update(output={"files": 3}, metadata={"exit": "ok"})
    child.end()
    mgen = mroot.start_observation(
        name="manual-gen", as_type="generation", model="manual-model", usage_details={"input": 1, "output": 2}
    )
    mids["gen"] = mgen.id
    mgen.end()
    mroot.update(output={"done": "manual"})
    mroot.end()
    summary["manual"] = mids

    # ---- update_current_span ---------------------------------------------------
    uids = {}

    @observe(name=f"{p}-update-span")
    def updated():
        note_current(lf, uids, "trace", "span")
        lf.update_current_span(
            metadata={"step": "one", "count": 2},
            level="WARNING",
            status_message="careful",
            version="span-v1",
        )
        return "updated-result"

    updated()
    summary["update_span"] = uids

    # ---- propagate_attributes --------------------------------------------------
    user_id = f"user-{p}-{run}"
    session_id = f"sess-{p}-{run}"
    pids = {"user_id": user_id, "session_id": session_id, "trace_name": f"{p}-prop-trace"}
    with lf.start_as_current_observation(name=f"{p}-prop-root") as root:
        pids["trace"] = root.trace_id
        pids["root"] = root.id
        with propagate_attributes(
            user_id=user_id,
            session_id=session_id,
            tags=["t1", "t2"],
            metadata={"tenant": "acme", "tier": "gold"},
            version="app-v2",
            trace_name=f"{p}-prop-trace",
        ):
            with lf.start_as_current_observation(name="prop-child", as_type="generation") as c:
                pids["child"] = c.id
                with propagate_attributes(tags=["t3"], metadata={"extra": "x"}):
                    with lf.start_as_current_observation(name="prop-grandchild") as g:
                        pids["grandchild"] = g.id
    summary["propagate"] = pids

    # ---- propagated prompt link and environment (4.x and 5.x) ---------------------
    import inspect

    if "prompt" in inspect.signature(propagate_attributes).parameters:
        pe = {}
        with propagate_attributes(environment="compat-prop", prompt={"name": "my-prompt", "version": 3}):
            with lf.start_as_current_observation(name=f"{p}-prompt-env") as root:
                pe["trace"] = root.trace_id
                pe["root"] = root.id
                with lf.start_as_current_observation(name="prompted-gen", as_type="generation", model="m") as g:
                    pe["gen"] = g.id
        summary["prompt_env"] = pe

    # ---- trace_context with create_trace_id(seed) --------------------------------
    seed = f"{p}-{run}-external-id"
    linked_trace = Langfuse.create_trace_id(seed=seed)
    lids = {"seed": seed, "trace": linked_trace}
    with lf.start_as_current_observation(name="linked-root", trace_context={"trace_id": linked_trace}) as s:
        lids["root"] = s.id
        lids["root_trace_id"] = s.trace_id
    with lf.start_as_current_observation(
        name="linked-child-later",
        trace_context={"trace_id": linked_trace, "parent_span_id": lids["root"]},
    ) as s2:
        lids["child"] = s2.id
    summary["trace_context"] = lids

    # ---- scores of every data type on trace, observation and session -----------
    score_session = f"score-sess-{p}-{run}"
    sids = {"session_id": score_session}
    with propagate_attributes(session_id=score_session):
        with lf.start_as_current_observation(name=f"{p}-scored") as sroot:
            sids["trace"] = sroot.trace_id
            sids["root"] = sroot.id
            with lf.start_as_current_observation(name="scored-child", as_type="generation") as sc:
                sids["child"] = sc.id
                lf.score_current_span(name="cur-span-num", value=0.5, comment="via score_current_span")
                lf.score_current_trace(name="cur-trace-cat", value="fine", data_type="CATEGORICAL")
            sroot.score(name="span-method-bool", value=0, data_type="BOOLEAN")
            sroot.score_trace(name="trace-method-num", value=7)
    tid, oid = sids["trace"], sids["child"]
    lf.create_score(name="trace-num", value=0.9, trace_id=tid, comment="good", metadata={"k": "v"})
    lf.create_score(name="trace-cat", value="good", trace_id=tid, data_type="CATEGORICAL")
    lf.create_score(name="trace-bool", value=1, trace_id=tid, data_type="BOOLEAN")
    lf.create_score(name="trace-text", value="free text", trace_id=tid, data_type="TEXT")
    lf.create_score(name="obs-num", value=3, trace_id=tid, observation_id=oid, data_type="NUMERIC")
    lf.create_score(name="obs-cat", value="bad", trace_id=tid, observation_id=oid, data_type="CATEGORICAL")
    lf.create_score(name="obs-bool", value=0, trace_id=tid, observation_id=oid, data_type="BOOLEAN")
    lf.create_score(name="obs-text", value="obs text", trace_id=tid, observation_id=oid, data_type="TEXT")
    lf.create_score(name="sess-num", value=-1.5, session_id=score_session)
    lf.create_score(name="sess-cat", value="meh", session_id=score_session, data_type="CATEGORICAL")
    lf.create_score(name="sess-bool", value=1, session_id=score_session, data_type="BOOLEAN")
    lf.create_score(name="sess-text", value="session text", session_id=score_session, data_type="TEXT")
    # the same score id twice: the second write updates the score
    sids["upsert_id"] = f"{p}-{run}-upsert-score"
    lf.create_score(name="upsert", value=1, trace_id=tid, score_id=sids["upsert_id"], comment="first")
    lf.create_score(name="upsert", value=2, trace_id=tid, score_id=sids["upsert_id"], comment="second")
    summary["scores"] = sids

    # ---- scores read back one by one (GET /api/public/v2/scores/{id}) ---------------------
    srd = {"ids": {}}
    with lf.start_as_current_observation(name=f"{p}-score-reads") as s:
        srd["trace"] = s.trace_id
    for kind, value, data_type in SCORE_READS:
        srd["ids"][kind] = f"{p}-{run}-by-id-{kind}"
        lf.create_score(name=f"by-id-{kind}", value=value, trace_id=srd["trace"], score_id=srd["ids"][kind],
                        data_type=data_type)
    summary["score_reads"] = srd

    # ---- generators under @observe: empty ones end with no output ---------------------
    gen_ids = {}

    @observe(name=f"{p}-empty-generator")
    def empty_generator():
        note_current(lf, gen_ids, "trace", "empty")
        return
        yield  # noqa: unreachable - makes this a generator

    @observe(name="chunk-generator")
    def chunk_generator():
        gen_ids["chunks"] = lf.get_current_observation_id()
        yield "ab"
        yield "cd"

    @observe(name="empty-async-generator")
    async def empty_async_generator():
        gen_ids["empty_async"] = lf.get_current_observation_id()
        return
        yield  # noqa: unreachable - makes this an async generator

    async def drain_async():
        return [item async for item in empty_async_generator()]

    @observe(name=f"{p}-generators")
    def generators_root():
        note_current(lf, gen_ids, "root_trace", "root")
        gen_ids["chunks_result"] = list(chunk_generator())
        gen_ids["empty_async_result"] = asyncio.run(drain_async())
        return "done"

    gen_ids["empty_result"] = list(empty_generator())
    generators_root()
    summary["generators"] = gen_ids

    # ---- exception inside @observe -------------------------------------------------
    eids = {}

    @observe(name=f"{p}-failing")
    def failing():
        note_current(lf, eids, "trace", "span")
        raise ValueError("boom in observe")

    try:
        failing()
        eids["raised"] = False
    except ValueError:
        eids["raised"] = True
    summary["exception"] = eids

    # ---- payloads: unicode and a large (~600 KB) input round-trip exactly ----------
    import hashlib

    chunk = hashlib.sha256(f"{p}-{run}".encode()).hexdigest()
    big = "".join(hashlib.sha256(f"{chunk}{i}".encode()).hexdigest() for i in range(600_000 // 64))
    tricky = "héllo 🌍 中文 עברית\n\t\"quoted\" \\ back\\slash \u2028 end"
    pay = {"big_len": len(big), "big_sha256": hashlib.sha256(big.encode()).hexdigest(), "tricky": tricky}
    with lf.start_as_current_observation(name=f"{p}-payloads", input={"big": big}, output=tricky) as s:
        pay["trace"] = s.trace_id
        pay["span"] = s.id
        with lf.start_as_current_observation(name="tricky-meta", metadata={"tricky": tricky}, input=[tricky]) as c:
            pay["child"] = c.id
    summary["payloads"] = pay

    # ---- more @observe shapes: async exception, capture off, LangfuseMedia bytes, public ----
    more = {}

    @observe(name=f"{p}-async-failing")
    async def async_failing():
        note_current(lf, more, "async_fail_trace", "async_fail_span")
        await asyncio.sleep(0)
        raise RuntimeError("async boom")

    try:
        asyncio.run(async_failing())
    except RuntimeError:
        more["async_raised"] = True

    @observe(name=f"{p}-no-capture", capture_input=False, capture_output=False)
    def no_capture(secret):
        note_current(lf, more, "no_capture_trace", "no_capture_span")
        return {"secret": secret}

    no_capture("do-not-store")

    from langfuse.media import LangfuseMedia

    with lf.start_as_current_observation(name=f"{p}-media-bytes") as s:
        more["media_bytes_trace"] = s.trace_id
        more["media_bytes_span"] = s.id
        s.update(output={"file": LangfuseMedia(content_bytes=base64.b64decode(PNG_1X1_B64), content_type="image/png")})
        if hasattr(lf, "set_current_trace_as_public"):
            lf.set_current_trace_as_public()
            more["public"] = True
    summary["more"] = more

    # ---- base64 data-URI media in the input ------------------------------------------
    media = {"sha256_b64": _sha256_b64(base64.b64decode(PNG_1X1_B64))}
    with lf.start_as_current_observation(
        name=f"{p}-media", input={"image": f"data:image/png;base64,{PNG_1X1_B64}", "caption": "pixel"}
    ) as mroot:
        media["trace"] = mroot.trace_id
        media["span"] = mroot.id
    summary["media"] = media

    # ---- 4.x only: set_current_trace_io / span.set_trace_io --------------------------
    if hasattr(lf, "set_current_trace_io"):
        tio = {}
        with lf.start_as_current_observation(name=f"{p}-trace-io", input="span-in") as s:
            tio["trace"] = s.trace_id
            lf.set_current_trace_io(input={"trace": "in"}, output={"trace": "out"})
            s.update(output="span-out")
        summary["trace_io"] = tio

    # ---- 3.x only: update_current_trace ----------------------------------------
    if hasattr(lf, "update_current_trace"):
        ut = {"user_id": f"ut-user-{p}-{run}", "session_id": f"ut-sess-{p}-{run}"}
        with lf.start_as_current_observation(name=f"{p}-update-trace", input="span-in") as s:
            ut["trace"] = s.trace_id
            ut["span"] = s.id
            lf.update_current_trace(
                name=f"{p}-renamed-trace",
                user_id=ut["user_id"],
                session_id=ut["session_id"],
                tags=["u1", "u2"],
                input={"trace": "in"},
                output={"trace": "out"},
                metadata={"mk": "mv"},
                version="tv3",
                public=True,
            )
            s.update(output="span-out")
        summary["update_trace"] = ut

    bounded(lf.flush, flush_timeout, "flush", summary)

    # Read data back through the SDK's own REST client (its models validate
    # the server's answers).
    reads = {}
    n_reads_log = len(collector.records)
    gtrace = summary["generations"]["trace"]
    sdk_read(reads, "api.health.health", lambda: attr(lf.api.health.health(), "status"))
    ptrace, psession = summary["propagate"]["trace"], summary["propagate"]["session_id"]
    strace = summary["scores"]["trace"]
    if major == "v3":
        obs_many = ("api.observations.get_many(trace_id) [v1 observations]", lf.api.observations.get_many)
    else:
        obs_many = ("api.observations.get_many(trace_id) [v2 observations]", lf.api.observations.get_many)
    sdk_read(reads, obs_many[0], lambda: sorted(attr(o, "id") for o in obs_many[1](trace_id=gtrace, limit=100).data))
    if major in ("v3", "v4"):  # 5.x dropped the v1 trace/session read clients

        def trace_get():
            t = lf.api.trace.get(gtrace)
            return {
                "name": t.name,
                "observations": sorted(o.id for o in t.observations),
                "types": sorted(str(getattr(o.type, "value", o.type)) for o in t.observations),
            }

        sdk_read(reads, "api.trace.get", trace_get)
        sdk_read(reads, "api.trace.list(user_id)",
                 lambda: [t.id for t in lf.api.trace.list(user_id=summary["propagate"]["user_id"]).data])
        sdk_read(reads, "api.sessions.get", lambda: [t.id for t in lf.api.sessions.get(psession).traces])
    if major == "v3":
        sdk_read(reads, "api.score_v_2.get(trace_id) [v2 scores]",
                 lambda: sorted(x.name for x in lf.api.score_v_2.get(trace_id=strace, limit=100).data))
    if major == "v5":  # 5.x reads scores through the cursor-paged v3 endpoint
        sdk_read(reads, "api.scores.get_many(trace_id) [v3 scores]",
                 lambda: sorted(x.name for x in lf.api.scores.get_many(trace_id=strace, limit=100).data))
        sdk_read(reads, "api.scores.get_many(session_id) [v3 scores]",
                 lambda: sorted(x.name for x in lf.api.scores.get_many(
                     session_id=summary["scores"]["session_id"], limit=100).data))
    if major == "v4":
        sdk_read(reads, "api.scores.get_many(trace_id) [v2 scores]",
                 lambda: sorted(x.name for x in lf.api.scores.get_many(trace_id=strace, limit=100).data))
        sdk_read(reads, "api.legacy.observations_v1.get_many(trace_id)",
                 lambda: sorted(o.id for o in lf.api.legacy.observations_v1.get_many(trace_id=gtrace, limit=100).data))
    if major in ("v3", "v4"):  # 5.x has no single-score read; it lists through the v3 endpoint
        get_by_id = lf.api.score_v_2.get_by_id if major == "v3" else lf.api.scores.get_by_id
        for kind, score_id in summary["score_reads"]["ids"].items():
            sdk_read(reads, f"get_by_id({kind}) [v2 scores]", lambda score_id=score_id: _score_fields(get_by_id(score_id)))
        sdk_read(reads, "get_by_id(absent) [v2 scores]", lambda: _status_of(lambda: get_by_id(f"{p}-{run}-absent")))
    summary["sdk_reads"] = reads
    summary["sdk_reads_log"] = take_records(collector, n_reads_log)

    # Read the uploaded media back through the SDK (GET /api/public/media/{id},
    # then the returned url). Its log records are kept apart from sdk_log.
    n_before = len(collector.records)
    media_id = base64.urlsafe_b64encode(base64.b64decode(media["sha256_b64"])).decode()[:22]
    ref = f"@@@langfuseMedia:type=image/png|id={media_id}|source=base64_data_uri@@@"
    holder = {}

    def resolve():
        holder["value"] = lf.resolve_media_references(
            obj={"image": ref}, resolve_with="base64_data_uri", content_fetch_timeout_seconds=5
        )

    media["resolve_status"] = bounded(resolve, flush_timeout, "resolve_media_references", {})
    media["resolved"] = holder.get("value")
    media["resolve_log"] = take_records(collector, n_before)

    shut_down(lf, summary, collector.records, flush_timeout)


def _score_fields(score):
    data_type = attr(score, "data_type")
    return {
        "id": attr(score, "id"),
        "name": attr(score, "name"),
        "dataType": getattr(data_type, "value", data_type),
        "value": attr(score, "value"),
        "stringValue": attr(score, "string_value"),
        "traceId": attr(score, "trace_id"),
    }


def _status_of(call):
    """The HTTP status of the error `call` raised (or "no error")."""
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the status is the result
        return getattr(exc, "status_code", None) or f"{type(exc).__name__}: {exc}"
    return "no error"


def _sha256_b64(data):
    import hashlib

    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _dist_version(name):
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:  # noqa: BLE001
        return None
