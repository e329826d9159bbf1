"""Authentication and project isolation."""

import httpx
import pytest

from compat_helpers import assert_clean_run
from conftest import PROJECT_A, PROJECT_B, Check

ENDPOINTS = [
    ("GET", "/api/public/traces", None),
    ("GET", "/api/public/traces/0123456789abcdef0123456789abcdef", None),
    ("GET", "/api/public/observations", None),
    ("GET", "/api/public/v2/observations", None),
    ("GET", "/api/public/scores", None),
    ("GET", "/api/public/v2/scores", None),
    ("GET", "/api/public/sessions", None),
    ("GET", "/api/public/projects", None),
    ("POST", "/api/public/ingestion", {"batch": []}),
    ("POST", "/api/public/otel/v1/traces", {"resourceSpans": []}),
    ("POST", "/api/public/scores", []),
]

BAD_CREDENTIALS = {
    "no Authorization header": None,
    "wrong secret key": (PROJECT_A["pk"], PROJECT_A["sk"] + "x"),
    "unknown public key": ("pk-lf-does-not-exist", PROJECT_A["sk"]),
    "project B public key with project A secret": (PROJECT_B["pk"], PROJECT_A["sk"]),
    "empty credentials": ("", ""),
}

# scenarios this module reads (started together when COMPAT_PARALLEL=1)
SCENARIOS_USED = ["py_v5_isolation", "py_v5"]


@pytest.fixture(scope="module")
def iso_run(scenario):
    """Project B writes one trace (+ score) with the Python 5.x SDK."""
    return scenario("py_v5_isolation")


def test_second_project_created_with_cli(server):
    assert not server.cli_errors, "creating project B with the CLI failed:\n" + "\n".join(server.cli_errors)


def test_init_project_survives_restart(api, server):
    ck = Check("LANGFUSE_INIT_* project after a restart")
    ck.eq(server.stop_results[:1], [0], "exit status of the first server after SIGTERM")
    projects = api.get("/api/public/projects").get("data", [])
    ck.eq([p.get("id") for p in projects], [PROJECT_A["id"]], "GET /api/public/projects ids (project A keys)")
    if projects:
        ck.eq(projects[0].get("name"), PROJECT_A["name"], "project.name")
        ck.eq((projects[0].get("organization") or {}).get("id"), PROJECT_A["org_id"], "project.organization.id")
        ck.eq((projects[0].get("organization") or {}).get("name"), PROJECT_A["org_name"],
              "project.organization.name")
    ck.done()


def test_health_needs_no_auth(server):
    r = httpx.get(f"{server.base_url}/api/public/health", timeout=5)
    assert r.status_code == 200, f"GET /api/public/health: {r.status_code} {r.text[:300]}"
    body = r.json()
    assert body.get("status") == "OK" and isinstance(body.get("version"), str), f"health body: {body}"


@pytest.mark.parametrize("cred_name", list(BAD_CREDENTIALS))
def test_wrong_keys_get_401(server, cred_name):
    cred = BAD_CREDENTIALS[cred_name]
    problems = []
    for method, path, body in ENDPOINTS:
        kw = {"auth": cred} if cred is not None else {}
        if body is not None:
            kw["json"] = body
        # a fresh connection per request: connection reuse is tested separately
        with httpx.Client(base_url=server.base_url, timeout=10) as c:
            r = c.request(method, path, **kw)
        if r.status_code != 401:
            problems.append(f"{method} {path} with {cred_name}: expected 401, got {r.status_code} {r.text[:200]}")
        elif not isinstance(_json_or_none(r), dict) or not _json_or_none(r).get("message"):
            problems.append(f"{method} {path} with {cred_name}: 401 body is not {{\"message\": ...}}: {r.text[:200]}")
    assert not problems, "\n".join(problems)


def _json_or_none(r):
    try:
        return r.json()
    except ValueError:
        return None


def test_keep_alive_connection_survives_a_401(server):
    """SDK HTTP clients keep connections alive: after a 401 answer to a POST
    with a body, the next request on the same connection must get an answer."""
    problems = []
    with httpx.Client(base_url=server.base_url, timeout=10) as c:
        for i in range(100):
            for method, path, body in ENDPOINTS:
                if body is None:
                    continue
                r = c.request(method, path, json=body, auth=(PROJECT_A["pk"], "wrong"))
                try:
                    r2 = c.get("/api/public/health")
                    if r2.status_code != 200:
                        problems.append(f"GET /api/public/health after a 401'd {method} {path}: {r2.status_code}")
                except httpx.HTTPError as exc:
                    problems.append(
                        f"round {i}: GET /api/public/health on the connection that just got 401 for "
                        f"{method} {path} (status {r.status_code}, response connection header "
                        f"{r.headers.get('connection')!r}): {type(exc).__name__}: {exc}"
                    )
    assert not problems, f"{len(problems)} failures:\n" + "\n".join(problems[:10])


def test_sdk_auth_check_with_wrong_keys(iso_run):
    got = iso_run["auth_check_wrong_keys"]
    assert got is False or (isinstance(got, str) and got.startswith("raised")), (
        f"Langfuse.auth_check() with unknown keys returned {got!r}; expected False or an exception"
    )


def test_project_b_writes_and_reads_its_own_data(api_b, iso_run):
    assert_clean_run(iso_run)
    ck = Check("project B own data")
    ck.eq(iso_run["auth_check"], True, "auth_check() with project B keys")
    t = api_b.trace(iso_run["trace"])
    ck.eq(t.get("name"), "iso-trace", "trace.name")
    ck.eq(t.get("projectId"), PROJECT_B["id"], "trace.projectId")
    ck.eq([s.get("name") for s in t.get("scores", []) if isinstance(s, dict)], ["iso-score"], "trace scores")
    projects = api_b.get("/api/public/projects").get("data", [])
    ck.eq([p.get("id") for p in projects], [PROJECT_B["id"]], "GET /api/public/projects ids (project B keys)")
    ck.done()


def test_other_project_sees_none_of_the_data(api, api_b, scenario, iso_run):
    """Project B's keys see nothing of project A's data, and the reverse."""
    a = scenario("py_v5")  # makes sure project A holds traces, sessions and scores
    a_traces = {a[c]["trace"] for c in ("observe_sync", "types", "generations", "propagate", "scores")}
    a_session = a["propagate"]["session_id"]
    ck = Check("project isolation")
    listed = api_b.get("/api/public/traces", params={"limit": 100})
    ids_b = [x.get("id") for x in listed.get("data", [])]
    ck.eq(sorted(ids_b), sorted([iso_run["trace"], iso_run["trace_2"]]), "GET /api/public/traces with project B keys")
    ck.eq((listed.get("meta") or {}).get("totalItems"), 2, "traces meta.totalItems with project B keys")
    for tid in sorted(a_traces):
        r = api_b.raw("GET", f"/api/public/traces/{tid}")
        ck.eq(r.status_code, 404, f"GET /api/public/traces/{tid} (project A's) with project B keys")
        obs = api_b.get("/api/public/observations", params={"traceId": tid}).get("data", [])
        ck.eq(obs, [], f"GET /api/public/observations?traceId={tid} with project B keys")
        obs2 = api_b.get("/api/public/v2/observations", params={"traceId": tid}).get("data", [])
        ck.eq(obs2, [], f"GET /api/public/v2/observations?traceId={tid} with project B keys")
        sc = api_b.get("/api/public/v2/scores", params={"traceId": tid}).get("data", [])
        ck.eq(sc, [], f"GET /api/public/v2/scores?traceId={tid} with project B keys")
    all_scores_b = api_b.get("/api/public/scores", params={"limit": 100}).get("data", [])
    ck.eq(sorted(s.get("name") for s in all_scores_b), ["iso-score"], "GET /api/public/scores with project B keys")
    r = api_b.raw("GET", f"/api/public/sessions/{a_session}")
    ck.eq(r.status_code, 404, f"GET /api/public/sessions/{a_session} (project A's) with project B keys")
    sessions_b = [s.get("id") for s in api_b.get("/api/public/sessions", params={"limit": 100}).get("data", [])]
    ck.eq(sessions_b, [iso_run["session_id"]], "GET /api/public/sessions with project B keys")
    v2_b = api_b.get("/api/public/v2/observations", params={"limit": 1000}).get("data", [])
    ck.eq(sorted({o.get("traceId") for o in v2_b}), sorted([iso_run["trace"], iso_run["trace_2"]]),
          "trace ids of GET /api/public/v2/observations with project B keys")
    # and the reverse: project A does not see B's trace
    r = api.raw("GET", f"/api/public/traces/{iso_run['trace']}")
    ck.eq(r.status_code, 404, "GET project B's trace with project A keys")
    a_ids = [x.get("id") for x in api.get("/api/public/traces", params={"limit": 100}).get("data", [])]
    ck.true(iso_run["trace"] not in a_ids, "project B's trace is listed with project A keys")
    a_sessions = [s.get("id") for s in api.get("/api/public/sessions", params={"limit": 100}).get("data", [])]
    ck.true(iso_run["session_id"] not in a_sessions, "project B's session is listed with project A keys")
    ck.done()


def test_two_clients_in_one_process_keep_their_projects(api, api_b, iso_run):
    """Python 5.x with two clients (project B's and project A's keys) in one
    process: each client's spans are stored in its own project only."""
    ck = Check("two clients in one process")
    a_trace, b_trace = iso_run.get("other_trace"), iso_run.get("trace_2")
    ck.true(a_trace and b_trace, f"the scenario did not create both traces: {a_trace!r}, {b_trace!r}")
    if a_trace and b_trace:
        ck.eq(api.raw("GET", f"/api/public/traces/{a_trace}").status_code, 200, "project A client's trace, A keys")
        ck.eq(api_b.raw("GET", f"/api/public/traces/{a_trace}").status_code, 404,
              "project A client's trace, B keys")
        ck.eq(api_b.raw("GET", f"/api/public/traces/{b_trace}").status_code, 200, "project B client's trace, B keys")
        ck.eq(api.raw("GET", f"/api/public/traces/{b_trace}").status_code, 404, "project B client's trace, A keys")
        t = api.trace(a_trace)
        ck.eq(t.get("name"), "iso-other-client-trace", "trace.name")
        ck.eq(t.get("projectId"), PROJECT_A["id"], "trace.projectId")
    ck.done()
