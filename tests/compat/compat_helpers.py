"""Assertion helpers over the read API's trace / observation / score objects."""

import datetime as dt
import urllib.parse

import pytest

from conftest import Check

_MISSING = object()


def encoded(name):
    """A name as one URL path segment (slashes encoded)."""
    return urllib.parse.quote(name, safe="")


def obs_map(trace):
    """id -> observation of a GET /api/public/traces/{id} answer."""
    return {o.get("id"): o for o in (trace.get("observations") or []) if isinstance(o, dict)}


def scenario_fixture(name):
    """The module fixture `run` of a suite that reads one scenario: that scenario's summary."""

    @pytest.fixture(scope="module")
    def run(scenario):
        return scenario(name)

    return run


def majors_fixture(prefix, majors=("v5", "v4")):
    """The module fixture `run` of a suite with one scenario per SDK major, `{prefix}_{major}`:
    each test runs once per major."""

    @pytest.fixture(scope="module", params=list(majors))
    def run(request, scenario):
        return scenario(f"{prefix}_{request.param}")

    return run


def sdk_reads(ck, run):
    """The reads the scenario made through the SDK's own API client; each must have succeeded."""
    reads = run.get("sdk_reads") or {}
    for label, r in reads.items():
        ck.true(r.get("ok"), f"{label}: {r.get('error')}")
    return reads


def read_trace(api, trace_id):
    """GET /api/public/traces/{id}: the trace and its observations by id."""
    trace = api.trace(trace_id)
    return trace, obs_map(trace)


# keyword of check_trace -> field of the trace object (compared for equality)
_TRACE_FIELDS = {
    "id": "id",
    "name": "name",
    "user_id": "userId",
    "session_id": "sessionId",
    "input": "input",
    "output": "output",
    "environment": "environment",
    "release": "release",
    "version": "version",
    "public": "public",
}


def check_trace(ck, trace, *, tags=_MISSING, metadata=_MISSING, observations=_MISSING, **fields):
    """Checks the given trace-level fields: each keyword of _TRACE_FIELDS for equality, `tags`
    in any order, `metadata` as a subset, `observations` as the number of observations
    (of the map `obs_map` makes: pass (observations map, expected count))."""
    for key, expected in fields.items():
        field = _TRACE_FIELDS[key]
        ck.eq(trace.get(field), expected, f"trace.{field}")
    if tags is not _MISSING:
        ck.eq(sorted(trace.get("tags") or []), sorted(tags), "trace.tags")
    if metadata is not _MISSING:
        ck.subset(trace.get("metadata"), metadata, "trace.metadata")
    if observations is not _MISSING:
        observed, count = observations
        ck.eq(len(observed), count, "number of observations")


def check_prompt_and_environment(api, run, label):
    """The scenario's `prompt_env` case, checked under `label`: the propagated environment is
    on the trace and its observations, the propagated prompt link (my-prompt, version 3) on
    the generation only."""
    ck = Check(label)
    ids = run["prompt_env"]
    t, obs = read_trace(api, ids["trace"])
    ck.eq(t.get("environment"), "compat-prop", "trace.environment")
    check_obs(ck, obs, ids["root"], name=f"{run['prefix']}-prompt-env", type="SPAN", environment="compat-prop")
    gen = check_obs(ck, obs, ids["gen"], name="prompted-gen", type="GENERATION", parent=ids["root"],
                    environment="compat-prop")
    if gen:
        ck.eq((gen.get("promptName"), gen.get("promptVersion")), ("my-prompt", 3), "generation (promptName, promptVersion)")
    root = obs.get(ids["root"]) or {}
    ck.eq(root.get("promptName"), None, "span promptName (prompt links are for generations only)")
    ck.done()


def describe(o):
    keep = (
        "id", "name", "type", "parentObservationId", "level", "statusMessage", "model",
        "input", "output", "usageDetails", "metadata",
    )
    return {k: o.get(k) for k in keep if k in o}


def check_obs(
    ck,
    observations,
    oid,
    *,
    name=_MISSING,
    type=_MISSING,
    parent=_MISSING,
    input=_MISSING,
    output=_MISSING,
    level=_MISSING,
    status_message=_MISSING,
    model=_MISSING,
    model_parameters=_MISSING,
    usage=_MISSING,
    cost=_MISSING,
    metadata=_MISSING,
    version=_MISSING,
    environment=_MISSING,
    completion_start_time=_MISSING,
    trace_id=_MISSING,
):
    o = observations.get(oid)
    label = f"observation {name if name is not _MISSING else ''!s} ({oid})"
    if o is None:
        ck.fail(f"{label}: not in the trace's observations (ids present: {sorted(observations)})")
        return None
    if name is not _MISSING:
        ck.eq(o.get("name"), name, f"{label}.name")
    if type is not _MISSING:
        ck.eq(o.get("type"), type, f"{label}.type")
    if parent is not _MISSING:
        ck.eq(o.get("parentObservationId"), parent, f"{label}.parentObservationId")
    if input is not _MISSING:
        ck.eq(o.get("input"), input, f"{label}.input")
    if output is not _MISSING:
        ck.eq(o.get("output"), output, f"{label}.output")
    if level is not _MISSING:
        ck.eq(o.get("level"), level, f"{label}.level")
    if status_message is not _MISSING:
        ck.eq(o.get("statusMessage"), status_message, f"{label}.statusMessage")
    if model is not _MISSING:
        ck.eq(o.get("model"), model, f"{label}.model")
    if version is not _MISSING:
        ck.eq(o.get("version"), version, f"{label}.version")
    if environment is not _MISSING:
        ck.eq(o.get("environment"), environment, f"{label}.environment")
    if trace_id is not _MISSING:
        ck.eq(o.get("traceId"), trace_id, f"{label}.traceId")
    if model_parameters is not _MISSING:
        _check_entries(ck, o.get("modelParameters"), model_parameters, f"{label}.modelParameters",
                       lambda got, k, v, what: ck.true(
                           k in got and loose_eq(got[k], v),
                           f"{what}: expected {v!r}, got {got.get(k, '<missing>')!r}"))
    if usage is not _MISSING:
        ck.subset(o.get("usageDetails"), usage, f"{label}.usageDetails")
    if cost is not _MISSING:
        _check_entries(ck, o.get("costDetails"), cost, f"{label}.costDetails",
                       lambda got, k, v, what: ck.approx(got.get(k), v, what))
    if metadata is not _MISSING:
        ck.subset(o.get("metadata"), metadata, f"{label}.metadata")
    if completion_start_time is not _MISSING:
        got = parse_ts(o.get("completionStartTime"))
        ck.eq(got, completion_start_time, f"{label}.completionStartTime")
    return o


def _check_entries(ck, actual, expected, label, check_entry):
    """`actual` is an object; check_entry(actual, key, value, label[key]) checks each entry of `expected`."""
    if not isinstance(actual, dict):
        ck.fail(f"{label}: expected {expected!r}, got {actual!r}")
        return
    for k, v in expected.items():
        check_entry(actual, k, v, f"{label}[{k!r}]")


def loose_eq(a, b):
    if a == b:
        return True
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)


def parse_ts(s):
    if not isinstance(s, str):
        return s
    try:
        return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return s


def children_of(observations, parent_id):
    return sorted(
        (o for o in observations.values() if o.get("parentObservationId") == parent_id),
        key=lambda o: o.get("name") or "",
    )


def scores_named(scores, name):
    return [s for s in scores if s.get("name") == name]


def check_score(
    ck,
    scores,
    name,
    *,
    data_type,
    value=_MISSING,
    string_value=_MISSING,
    trace_id=_MISSING,
    observation_id=_MISSING,
    session_id=_MISSING,
    comment=_MISSING,
    metadata=_MISSING,
    where="",
):
    found = scores_named(scores, name)
    label = f"score {name!r}{' ' + where if where else ''}"
    if len(found) != 1:
        ck.fail(
            f"{label}: expected exactly one, found {len(found)} "
            f"(names present: {sorted(s.get('name') for s in scores)})"
        )
        if not found:
            return None
    s = found[0]
    ck.eq(s.get("dataType"), data_type, f"{label}.dataType")
    if value is not _MISSING:
        ck.true(
            isinstance(s.get("value"), (int, float)) and not isinstance(s.get("value"), bool)
            and abs(s["value"] - value) < 1e-9,
            f"{label}.value: expected {value!r}, got {s.get('value')!r}",
        )
    if string_value is not _MISSING:
        ck.eq(s.get("stringValue"), string_value, f"{label}.stringValue")
    if trace_id is not _MISSING:
        ck.eq(s.get("traceId"), trace_id, f"{label}.traceId")
    if observation_id is not _MISSING:
        ck.eq(s.get("observationId"), observation_id, f"{label}.observationId")
    if session_id is not _MISSING:
        ck.eq(s.get("sessionId"), session_id, f"{label}.sessionId")
    if comment is not _MISSING:
        ck.eq(s.get("comment"), comment, f"{label}.comment")
    if metadata is not _MISSING:
        ck.subset(s.get("metadata"), metadata, f"{label}.metadata")
    return s


def expected_scores(kind):
    """(name, dataType, value, stringValue) of the 4 data types, per target prefix."""
    return {
        "trace": [
            ("trace-num", "NUMERIC", None, None),
            ("trace-cat", "CATEGORICAL", None, "good"),
            ("trace-bool", "BOOLEAN", 1, "True"),
            ("trace-text", "TEXT", None, "free text"),
        ],
        "obs": [
            ("obs-num", "NUMERIC", 3, None),
            ("obs-cat", "CATEGORICAL", None, "bad"),
            ("obs-bool", "BOOLEAN", 0, "False"),
            ("obs-text", "TEXT", None, "obs text"),
        ],
        "sess": [
            ("sess-num", "NUMERIC", -1.5, None),
            ("sess-cat", "CATEGORICAL", None, "meh"),
            ("sess-bool", "BOOLEAN", 1, "True"),
            ("sess-text", "TEXT", None, "session text"),
        ],
    }[kind]


def check_expected_scores(ck, scores, kind, *, where="", **ids):
    """The four scores of expected_scores(kind) are in `scores`, each with the given
    trace_id, observation_id or session_id."""
    for name, data_type, value, string_value in expected_scores(kind):
        values = {"value": value} if value is not None else {}
        if string_value is not None:
            values["string_value"] = string_value
        check_score(ck, scores, name, data_type=data_type, where=where, **ids, **values)


def assert_clean_run(summary):
    """The SDK reported no export/upload errors and every flush finished."""
    problems = []
    for label, status in (summary.get("flush") or {}).items():
        if status != "ok":
            problems.append(f"{label}: {status} (after {summary.get('flush_seconds', {}).get(label)} s)")
    for rec in summary.get("sdk_log") or []:
        if str(rec.get("level", "")).upper() in ("ERROR", "CRITICAL", "WARNING", "WARN"):
            problems.append(f"SDK log {rec.get('level')} {rec.get('logger')}: {rec.get('message')}")
    if problems:
        raise AssertionError(
            f"{summary.get('sdk')} {summary.get('major')} {summary.get('sdk_version', '')}: the SDK reported problems "
            "while talking to the server:\n  - " + "\n  - ".join(problems)
        )


def check_times(ck, observations):
    """Every observation has a parseable startTime and endTime >= startTime
    (structure only: no wall-clock values are compared)."""
    for oid, o in observations.items():
        start, end = parse_ts(o.get("startTime")), parse_ts(o.get("endTime"))
        if not isinstance(start, dt.datetime):
            ck.fail(f"observation {o.get('name')} ({oid}).startTime: not an ISO timestamp: {o.get('startTime')!r}")
            continue
        if end is not None and not isinstance(end, dt.datetime):
            ck.fail(f"observation {o.get('name')} ({oid}).endTime: not an ISO timestamp: {o.get('endTime')!r}")
        elif end is not None and end < start:
            ck.fail(f"observation {o.get('name')} ({oid}): endTime {o.get('endTime')} < startTime {o.get('startTime')}")


def check_trace_derived_times(ck, trace, observations):
    """Trace timestamp = earliest observation start and latency = (latest
    end - earliest start) in seconds (wire spec §3.7), compared with the
    stored observation times themselves (no wall clock involved)."""
    starts = [parse_ts(o.get("startTime")) for o in observations.values()]
    ends = [parse_ts(o.get("endTime") or o.get("startTime")) for o in observations.values()]
    if not starts or not all(isinstance(x, dt.datetime) for x in starts + ends):
        ck.fail("observation times missing or unparseable; cannot check trace timestamp/latency")
        return
    first, last = min(starts), max(ends + starts)
    ts = parse_ts(trace.get("timestamp"))
    ck.eq(ts, first, "trace.timestamp (= earliest observation startTime)")
    lat = trace.get("latency")
    want = (last - first).total_seconds()
    ck.true(
        isinstance(lat, (int, float)) and abs(lat - want) <= 0.0015,
        f"trace.latency: expected {want:.3f} s (latest end - earliest start), got {lat!r}",
    )
