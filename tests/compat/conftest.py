"""Fixtures of the SDK compatibility suites.

* ``backend``: the storage backend of this run, from ``COMPAT_BACKEND``
  (``sqlite``, the default, or ``postgres``). It is an autouse session fixture
  with that one parameter, so every test id ends in ``[sqlite]`` or
  ``[postgres]`` and a failure says which backend it was on.
* ``server``: one Spindle server for the whole session, on a free port with a
  temporary data dir; on PostgreSQL also with a fresh database
  (``spindle_compat_<random>``, created with ``psql`` next to
  ``SPINDLE_TEST_DATABASE_URL`` and dropped at the end; unreachable PostgreSQL
  is a failure, never a skip). Project A comes from the LANGFUSE_INIT_* variables;
  project B is created with the CLI while the server is stopped (start, stop,
  ``projects create`` + ``keys create``, and ``organizations create-key`` for the
  organization key ``ORG_KEY`` of the administration API, start again), which also checks that
  the LANGFUSE_INIT_* set-up is idempotent on restart.
* ``api`` / ``api_b``: httpx clients with basic auth for project A / B.
* ``scenario``: runs one SDK scenario script (tests/compat/scenarios, js/)
  once per session as a subprocess with the matching virtualenv or node, and
  returns its parsed JSON summary.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SUMMARY_PREFIX = "COMPAT_SUMMARY "

# The web UI's first account, for the cases that read the UI API.
UI_ADMIN = {"email": "admin@compat.example", "password": "compat-admin-password"}
PROJECT_A = {
    "org_id": "compat-org",
    "org_name": "Compat Org",
    "id": "compat-project-a",
    "name": "Compat Project A",
    "pk": "pk-lf-compat-a",
    "sk": "sk-lf-compat-a-secret",
}
PROJECT_B = {
    "id": "compat-project-b",
    "name": "Compat Project B",
    "pk": "pk-lf-compat-b",
    "sk": "sk-lf-compat-b-secret",
}

# An organization key of PROJECT_A's organization (the administration API), made with the CLI.
ORG_KEY = {
    "pk": "pk-lf-compat-org",
    "sk": "sk-lf-compat-org-secret",
}

HEALTH_TIMEOUT = float(os.environ.get("COMPAT_HEALTH_TIMEOUT", "20"))
SCENARIO_TIMEOUT = float(os.environ.get("COMPAT_SCENARIO_TIMEOUT", "180"))
FLUSH_TIMEOUT = os.environ.get("COMPAT_FLUSH_TIMEOUT", "30")
# The SDKs' own limit on one HTTP request (LANGFUSE_TIMEOUT, read by the Python SDK 3.x and
# later and by the JS SDK; 5 s by default). Every scenario starts at once, so on two cores a
# request can wait seconds for CPU; the suites check what is stored and answered, not how
# fast, so a request is only given up on after this long.
SDK_REQUEST_TIMEOUT = os.environ.get("COMPAT_SDK_REQUEST_TIMEOUT", "20")

RUN_ID = os.environ.get("COMPAT_RUN_ID") or uuid.uuid4().hex[:10]

BACKENDS = ("sqlite", "postgres")
BACKEND = os.environ.get("COMPAT_BACKEND") or "sqlite"
# The PostgreSQL server the fresh databases are created on (the Rust tests use the same variable).
PG_URL = os.environ.get("SPINDLE_TEST_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/test"


def pytest_configure(config):
    if BACKEND not in BACKENDS:
        raise pytest.UsageError(f"COMPAT_BACKEND={BACKEND!r}: expected one of {', '.join(BACKENDS)}")


def pytest_report_header(config):
    where = f" on {_redact(PG_URL)}" if BACKEND == "postgres" else ""
    return f"compat backend: {BACKEND}{where} (COMPAT_BACKEND)"


@pytest.fixture(scope="session", autouse=True, params=[BACKEND], ids=[BACKEND])
def backend(request):
    """The storage backend of this run; its only parameter puts it in every test id."""
    return request.param


# ---------------------------------------------------------------- PostgreSQL


def _redact(url):
    """The URL without its password (for messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _with_database(url, name):
    """`url` pointing at database `name` instead of its own (query kept)."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _psql(url, sql, timeout=60):
    """Runs one statement with psql within `timeout` seconds; a failure (PostgreSQL down, psql
    missing) fails the tests."""
    psql = os.environ.get("COMPAT_PSQL") or shutil.which("psql")
    if not psql:
        pytest.fail("COMPAT_BACKEND=postgres needs `psql` on PATH (or COMPAT_PSQL)", pytrace=False)
    env = dict(os.environ)
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    try:
        r = subprocess.run(
            [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
            env=env, capture_output=True, text=True, timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"psql {_redact(url)} -c {sql!r} did not finish within {timeout} s", pytrace=False
        )
    if r.returncode != 0:
        pytest.fail(
            f"COMPAT_BACKEND=postgres: `{sql}` on {_redact(url)} failed (exit {r.returncode}): "
            f"{r.stderr.strip()[-1500:]}\nPostgreSQL is required for this run: start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` "
            "or point SPINDLE_TEST_DATABASE_URL at another server",
            pytrace=False,
        )


@contextlib.contextmanager
def fresh_database(label):
    """On PostgreSQL: a new, empty database for one server, dropped afterwards; yields its URL.
    On SQLite: yields None (the server's data dir holds everything)."""
    if BACKEND != "postgres":
        yield None
        return
    name = f"spindle_compat_{label}_{uuid.uuid4().hex[:12]}"
    assert re.fullmatch(r"[a-z0-9_]+", name), name
    # Created and dropped from the `postgres` maintenance database, so the test database
    # itself need not exist.
    admin_url = _with_database(PG_URL, "postgres")
    _psql(admin_url, f"CREATE DATABASE {name}")
    try:
        yield _with_database(PG_URL, name)
    finally:
        if os.environ.get("COMPAT_KEEP_DATABASE") == "1":
            print(f"compat: kept database {name}")
        else:
            # DROP DATABASE waits for a checkpoint, which syncs every file the cluster wrote
            # since the last one: minutes on a busy two-core machine.
            _psql(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", timeout=600)


def spindle_bin():
    path = Path(os.environ.get("SPINDLE_BIN") or REPO / "target" / "debug" / "spindle")
    if not path.exists():
        pytest.fail(
            f"server binary {path} does not exist: build it with `cargo build -p spindle-server` "
            "or set SPINDLE_BIN",
            pytrace=False,
        )
    return path


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path, n=4000):
    try:
        data = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    return data[-n:]


class SpindleServer:
    def __init__(self, binary, data_dir, log_dir, extra_args=(), database_url=None):
        self.binary = binary
        self.extra_args = list(extra_args)
        self.data_dir = data_dir
        self.database_url = database_url
        self.log_dir = Path(log_dir)
        self.proc = None
        self.port = None
        self.starts = 0
        self.cli_errors = []
        self.stop_results = []

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def storage_args(self):
        """`--data-dir` (+ `--database-url` on PostgreSQL): for `serve` and the admin commands."""
        args = ["--data-dir", str(self.data_dir)]
        if self.database_url:
            args += ["--database-url", self.database_url]
        return args

    def env(self):
        e = dict(os.environ)
        for k in list(e):
            if k.startswith(("LANGFUSE_", "SPINDLE_")) or k == "DATABASE_URL":
                del e[k]
        e.update(
            {
                "LANGFUSE_INIT_ORG_ID": PROJECT_A["org_id"],
                "LANGFUSE_INIT_ORG_NAME": PROJECT_A["org_name"],
                "LANGFUSE_INIT_PROJECT_ID": PROJECT_A["id"],
                "LANGFUSE_INIT_PROJECT_NAME": PROJECT_A["name"],
                "LANGFUSE_INIT_PROJECT_PUBLIC_KEY": PROJECT_A["pk"],
                "LANGFUSE_INIT_PROJECT_SECRET_KEY": PROJECT_A["sk"],
                "LANGFUSE_INIT_USER_EMAIL": UI_ADMIN["email"],
                "LANGFUSE_INIT_USER_PASSWORD": UI_ADMIN["password"],
                "RUST_LOG": os.environ.get("RUST_LOG", "info"),
            }
        )
        return e

    def start(self):
        """Start on a free port; if another process grabbed the port between
        picking and binding it, try again with a new one (3 attempts)."""
        for attempt in range(3):
            try:
                return self._start_once()
            except RuntimeError as exc:
                if attempt == 2 or "in use" not in str(exc).lower():
                    raise

    def start_or_fail(self, failure=""):
        """start(), failing the test without a traceback (its message `failure` followed by
        the reason) when the server does not come up."""
        try:
            self.start()
        except RuntimeError as exc:
            pytest.fail(f"{failure}{exc}", pytrace=False)

    def _start_once(self):
        self.starts += 1
        self.port = free_port()
        self.log_path = self.log_dir / f"server-{self.starts}.log"
        self._log = open(self.log_path, "wb")
        cmd = [
            str(self.binary),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            *self.storage_args,
            *self.extra_args,
        ]
        self.proc = subprocess.Popen(cmd, env=self.env(), stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + HEALTH_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"`{' '.join(map(_redact, cmd))}` exited with {self.proc.returncode} before it was healthy:\n"
                    + _tail(self.log_path)
                )
            try:
                r = httpx.get(f"{self.base_url}/api/public/health", timeout=1)
                last = f"{r.status_code} {r.text[:200]}"
                if r.status_code == 200:
                    return
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"GET /api/public/health did not answer 200 within {HEALTH_TIMEOUT}s (last: {last}):\n"
            + _tail(self.log_path)
        )

    def stop(self):
        if self.proc is None:
            return None
        rc = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
                rc = "killed after 15 s without exiting on SIGTERM"
        else:
            rc = f"had already exited with {self.proc.returncode}"
        self.stop_results.append(rc)
        self._log.close()
        self.proc = None
        return rc

    def cli(self, *args):
        cmd = [str(self.binary), *args]
        r = subprocess.run(cmd, env=self.env(), capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            self.cli_errors.append(
                f"`{' '.join(map(_redact, cmd))}` exited with {r.returncode}\nstdout: {r.stdout[-2000:]}\nstderr: {r.stderr[-2000:]}"
            )
        return r


@pytest.fixture(scope="session")
def artifacts_dir():
    d = Path(os.environ.get("COMPAT_ARTIFACTS") or tempfile.mkdtemp(prefix="spindle-compat-"))
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="session")
def database_url(backend):
    """The main server's fresh PostgreSQL database (None on SQLite)."""
    with fresh_database("main") as url:
        yield url


@contextlib.contextmanager
def running_server(data_prefix, log_dir, **options):
    """A server of `spindle_bin()` on a fresh data dir named from `data_prefix`, logging in
    `log_dir`, started (the test failing when it does not come up); stopped and its data dir
    removed when the block ends."""
    data_dir = Path(tempfile.mkdtemp(prefix=data_prefix))
    srv = SpindleServer(spindle_bin(), data_dir, log_dir, **options)
    srv.start_or_fail()
    yield srv
    srv.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def server(artifacts_dir, database_url):
    with running_server("spindle-compat-data-", artifacts_dir, database_url=database_url) as srv:
        # Second project: created with the CLI while the server is stopped.
        srv.stop()
        srv.cli("projects", "create", *srv.storage_args, "--id", PROJECT_B["id"], "--name", PROJECT_B["name"])
        srv.cli(
            "keys",
            "create",
            *srv.storage_args,
            "--project-id",
            PROJECT_B["id"],
            "--public-key",
            PROJECT_B["pk"],
            "--secret-key",
            PROJECT_B["sk"],
        )
        srv.cli(
            "organizations",
            "create-key",
            *srv.storage_args,
            "--organization-id",
            PROJECT_A["org_id"],
            "--public-key",
            ORG_KEY["pk"],
            "--secret-key",
            ORG_KEY["sk"],
        )
        srv.start_or_fail("restart on the same data dir failed: ")
        yield srv


def make_client(server, pk, sk):
    return httpx.Client(base_url=server.base_url, auth=(pk, sk), timeout=15)


@pytest.fixture(scope="session")
def api(server):
    with make_client(server, PROJECT_A["pk"], PROJECT_A["sk"]) as c:
        yield Api(c)


@pytest.fixture(scope="session")
def api_b(server):
    with make_client(server, PROJECT_B["pk"], PROJECT_B["sk"]) as c:
        yield Api(c)


@pytest.fixture(scope="session")
def ui(server):
    """An httpx client signed in to the web UI as its admin (the UI API, `/api/ui/...`)."""
    with httpx.Client(base_url=server.base_url, timeout=15) as c:
        r = c.post("/api/ui/auth/sign-in", json=UI_ADMIN, headers={"x-spindle-csrf": "1"})
        if r.status_code != 200:
            raise AssertionError(f"UI sign-in: {r.status_code}: {r.text[:500]}")
        yield Api(c)


class ApiError(AssertionError):
    pass


class Api:
    """Thin wrapper that turns unexpected statuses into readable failures."""

    def __init__(self, client):
        self.client = client

    def get(self, path, params=None, expect=200):
        r = self.client.get(path, params=params)
        if expect is not None and r.status_code != expect:
            raise ApiError(
                f"GET {r.request.url}: expected {expect}, got {r.status_code}: {r.text[:1500]}"
            )
        try:
            return r.json()
        except ValueError:
            raise ApiError(f"GET {r.request.url}: body is not JSON: {r.text[:500]!r}") from None

    def raw(self, method, path, **kw):
        return self.client.request(method, path, **kw)

    def trace(self, trace_id):
        return self.get(f"/api/public/traces/{trace_id}")

    def scores_v2(self, **params):
        return self.get("/api/public/v2/scores", params={"limit": 100, **params})["data"]


# ---------------------------------------------------------------- scenarios


def _venv_python(name):
    return HERE / f".venv-{name}" / "bin" / "python"


def _py(venv, script):
    return lambda: [str(_venv_python(venv)), str(HERE / "scenarios" / script)]


def _node(script="scenario.mjs"):
    return lambda: [os.environ.get("COMPAT_NODE", "node"), str(HERE / "js" / script)]


# name -> (command, extra environment)
SCENARIOS = {
    "py_v5": (_py("v5", "py_v5.py"), {}),
    # same calls, one span per export request (children reach the server
    # before their parents, in separate requests), no gzip
    "py_v5_split": (
        _py("v5", "py_v5.py"),
        {"COMPAT_VARIANT": "split", "LANGFUSE_FLUSH_AT": "1", "LANGFUSE_OTEL_COMPRESSION": "none"},
    ),
    "py_v4": (_py("v4", "py_v4.py"), {}),
    "py_v3": (_py("v3", "py_v3.py"), {}),
    "py_v2": (_py("v2", "py_v2.py"), {}),
    "py_v5_isolation": (
        _py("v5", "py_v5_isolation.py"),
        {"COMPAT_OTHER_PUBLIC_KEY": PROJECT_A["pk"], "COMPAT_OTHER_SECRET_KEY": PROJECT_A["sk"]},
    ),
    "py_v5_cost": (_py("v5", "py_v5_cost.py"), {}),
    "py_prompts_v5": (lambda: [str(_venv_python("v5")), str(HERE / "scenarios" / "py_prompts.py"), "v5"], {}),
    "py_prompts_v4": (lambda: [str(_venv_python("v4")), str(HERE / "scenarios" / "py_prompts.py"), "v4"], {}),
    "py_datasets_v5": (lambda: [str(_venv_python("v5")), str(HERE / "scenarios" / "py_datasets.py"), "v5"], {}),
    "py_datasets_v4": (lambda: [str(_venv_python("v4")), str(HERE / "scenarios" / "py_datasets.py"), "v4"], {}),
    "py_metrics_v5": (lambda: [str(_venv_python("v5")), str(HERE / "scenarios" / "py_metrics.py"), "v5"], {}),
    "py_metrics_v4": (lambda: [str(_venv_python("v4")), str(HERE / "scenarios" / "py_metrics.py"), "v4"], {}),
    "py_reviews_v5": (lambda: [str(_venv_python("v5")), str(HERE / "scenarios" / "py_reviews.py"), "v5"], {}),
    "py_reviews_v4": (lambda: [str(_venv_python("v4")), str(HERE / "scenarios" / "py_reviews.py"), "v4"], {}),
    "py_score_configs_v5": (
        lambda: [str(_venv_python("v5")), str(HERE / "scenarios" / "py_score_configs.py"), "v5"], {}),
    "py_score_configs_v4": (
        lambda: [str(_venv_python("v4")), str(HERE / "scenarios" / "py_score_configs.py"), "v4"], {}),
    "js_score_configs": (_node("score_configs.mjs"), {}),
    "py_admin_v5": (
        _py("v5", "py_admin.py"),
        {"COMPAT_PROJECT_PUBLIC_KEY": PROJECT_A["pk"], "COMPAT_PROJECT_SECRET_KEY": PROJECT_A["sk"]},
    ),
    "js_admin": (
        _node("admin.mjs"),
        {"COMPAT_PROJECT_PUBLIC_KEY": PROJECT_A["pk"], "COMPAT_PROJECT_SECRET_KEY": PROJECT_A["sk"]},
    ),
    "js_prompts": (_node("prompts.mjs"), {}),
    "js_reviews": (_node("reviews.mjs"), {}),
    "js_datasets": (_node("datasets.mjs"), {}),
    "js_metrics": (_node("metrics.mjs"), {}),
    "js": (_node(), {}),
    # same calls, exportMode "immediate" (one request per span) and gzip bodies
    "js_immediate": (_node(), {"COMPAT_VARIANT": "immediate", "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip"}),
    "js_legacy": (_node("legacy.mjs"), {}),
    # the Vercel AI SDK's mock model, its telemetry exported by @langfuse/otel
    "js_ai": (_node("ai_sdk.mjs"), {}),
}
# bursts of small exports for the backpressure suite (its own server)
for _v in ("v5", "v4"):
    for _k in ("a", "b"):
        SCENARIOS[f"burst_{_v}_{_k}"] = (
            _py(_v, "py_burst.py"),
            {"COMPAT_BURST_TAG": f"{_v}{_k}", "LANGFUSE_FLUSH_AT": "3", "COMPAT_BURST_TRACES": "20",
             "COMPAT_BURST_SPANS": "10"},
        )


# Scenarios that use other keys than project A's: project B's, or the organization key.
SCENARIO_PROJECT = {"py_v5_isolation": PROJECT_B, "py_admin_v5": ORG_KEY, "js_admin": ORG_KEY}

# COMPAT_PARALLEL=1 (the default) starts every scenario the selected tests
# need at once, as concurrent SDK clients of one server; 0 runs them one by one.
PARALLEL = os.environ.get("COMPAT_PARALLEL", "1") != "0"


class _Launched:
    def __init__(self, name, server, artifacts_dir):
        cmd_fn, scenario_env = SCENARIOS[name]
        keys = SCENARIO_PROJECT.get(name, PROJECT_A)
        self.name = name
        self.cmd = cmd_fn()
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("LANGFUSE_") or k.startswith("OTEL_"):
                del env[k]
        env.update(
            {
                "LANGFUSE_PUBLIC_KEY": keys["pk"],
                "LANGFUSE_SECRET_KEY": keys["sk"],
                "LANGFUSE_BASE_URL": server.base_url,
                "LANGFUSE_HOST": server.base_url,
                "COMPAT_RUN_ID": RUN_ID,
                "COMPAT_FLUSH_TIMEOUT": FLUSH_TIMEOUT,
                "LANGFUSE_TIMEOUT": SDK_REQUEST_TIMEOUT,
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(scenario_env)
        self.out_path = Path(artifacts_dir) / f"{name}.stdout"
        self.err_path = Path(artifacts_dir) / f"{name}.stderr"
        self._out = open(self.out_path, "w")
        self._err = open(self.err_path, "w")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, env=env, stdout=self._out, stderr=self._err, cwd=str(HERE))

    def collect(self):
        """Wait (bounded) for the scenario and return its parsed summary."""
        remaining = max(1.0, SCENARIO_TIMEOUT - (time.monotonic() - self.started))
        timed_out = False
        try:
            self.proc.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            timed_out = True
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._out.close()
        self._err.close()
        stdout = self.out_path.read_text(errors="replace")
        stderr = self.err_path.read_text(errors="replace")
        if timed_out:
            pytest.fail(
                f"scenario {self.name} did not finish within {SCENARIO_TIMEOUT}s\nstderr: {stderr[-3000:]}",
                pytrace=False,
            )
        lines = [ln for ln in stdout.splitlines() if ln.startswith(SUMMARY_PREFIX)]
        if self.proc.returncode != 0 or not lines:
            pytest.fail(
                f"scenario {self.name} ({' '.join(self.cmd)}) exited with {self.proc.returncode} and "
                f"{'a' if lines else 'no'} summary\nstdout: {stdout[-3000:]}\nstderr: {stderr[-5000:]}",
                pytrace=False,
            )
        summary = json.loads(lines[-1][len(SUMMARY_PREFIX):])
        summary["_elapsed"] = round(time.monotonic() - self.started, 2)
        summary["_stderr_tail"] = stderr[-3000:]
        return summary


_scenario_cache = {}
_needed_scenarios = []


def pytest_collection_finish(session):
    """Note which scenarios the selected tests use (module attribute SCENARIOS_USED)."""
    for item in session.items:
        mod = getattr(item, "module", None)
        for name in getattr(mod, "SCENARIOS_USED", ()):
            if name not in _needed_scenarios:
                _needed_scenarios.append(name)


def _run_all(names, server, artifacts_dir):
    launched = []
    for name in names:
        if name in _scenario_cache:
            continue
        try:
            launched.append(_Launched(name, server, artifacts_dir))
        except BaseException as exc:  # noqa: BLE001 - e.g. a missing venv or node
            _scenario_cache[name] = exc
    for job in launched:
        try:
            _scenario_cache[job.name] = job.collect()
        except BaseException as exc:  # remember failures, don't re-run for every test
            _scenario_cache[job.name] = exc


@pytest.fixture(scope="session")
def scenario(server, artifacts_dir):
    """scenario(name) -> summary; each scenario runs at most once per session."""

    def get(name):
        if name not in _scenario_cache:
            if PARALLEL:
                _run_all(list(dict.fromkeys(_needed_scenarios + [name])), server, artifacts_dir)
            else:
                _run_all([name], server, artifacts_dir)
        got = _scenario_cache[name]
        if isinstance(got, BaseException):
            raise got
        return got

    return get


# ---------------------------------------------------------------- soft checks


class Check:
    """Collects every mismatch of a test so one run reports all of them."""

    def __init__(self, context=""):
        self.context = context
        self.problems = []

    def fail(self, what):
        self.problems.append(what)

    def eq(self, actual, expected, what):
        if actual != expected:
            self.problems.append(f"{what}: expected {expected!r}, got {actual!r}")
            return False
        return True

    def true(self, cond, what):
        if not cond:
            self.problems.append(what)
        return bool(cond)

    def approx(self, actual, expected, what, tol=1e-9):
        try:
            ok = abs(float(actual) - float(expected)) <= tol * max(1.0, abs(float(expected)))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            self.problems.append(f"{what}: expected ≈{expected!r}, got {actual!r}")
        return ok

    def subset(self, actual, expected, what):
        """Every key of `expected` is in `actual` with an equal value."""
        if not isinstance(actual, dict):
            self.problems.append(f"{what}: expected an object containing {expected!r}, got {actual!r}")
            return False
        ok = True
        for k, v in expected.items():
            if k not in actual:
                self.problems.append(f"{what}: key {k!r} missing (expected {v!r}); got {actual!r}")
                ok = False
            elif actual[k] != v and not _num_eq(actual[k], v):
                self.problems.append(f"{what}[{k!r}]: expected {v!r}, got {actual[k]!r}")
                ok = False
        return ok

    def done(self):
        if self.problems:
            head = f"{len(self.problems)} mismatch(es)" + (f" in {self.context}" if self.context else "")
            raise AssertionError(head + ":\n  - " + "\n  - ".join(self.problems))


def _num_eq(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= 1e-9 * max(1.0, abs(b))
    return False


@pytest.fixture
def check(request):
    c = Check(request.node.name)
    yield c
    # done() is called explicitly by tests so the failure points at the test body


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A skipped test is a failure here: these suites must never skip silently."""
    outcome = yield
    rep = outcome.get_result()
    if rep.skipped and not hasattr(rep, "wasxfail"):
        rep.outcome = "failed"
        rep.longrepr = f"skipped, which the compat suites do not allow: {rep.longrepr}"
