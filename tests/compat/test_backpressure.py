"""SDKs against a saturated server: with one ingestion request allowed at a
time and a one-batch write queue, concurrent SDK processes get 429/503 with
Retry-After, retry, and in the end every span is stored."""

import re
from pathlib import Path

import pytest

from conftest import PROJECT_A, Api, _Launched, fresh_database, make_client, running_server

BURSTS = ["burst_v5_a", "burst_v5_b", "burst_v4_a", "burst_v4_b"]
RETRY_LOG = re.compile(r"(Transient error .* retrying|retrying in)", re.I)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def bp_database_url(backend):
    """The second server's own fresh PostgreSQL database (None on SQLite)."""
    with fresh_database("bp") as url:
        yield url


@pytest.fixture(scope="module")
def saturated(artifacts_dir, bp_database_url):
    log_dir = Path(artifacts_dir) / "backpressure"
    log_dir.mkdir(parents=True, exist_ok=True)
    with running_server(
        "spindle-compat-bp-",
        log_dir,
        extra_args=["--max-inflight-ingest", "1", "--ingest-slot-wait-ms", "0", "--write-queue", "1"],
        database_url=bp_database_url,
    ) as srv:
        jobs = [_Launched(name, srv, log_dir) for name in BURSTS]
        results = {}
        for job in jobs:
            try:
                results[job.name] = job.collect()
            except BaseException as exc:  # noqa: BLE001
                results[job.name] = exc
        with make_client(srv, PROJECT_A["pk"], PROJECT_A["sk"]) as c:
            yield srv, results, Api(c), log_dir


def test_every_span_arrives_despite_backpressure(saturated):
    srv, results, api, log_dir = saturated
    problems = []
    rejected = 0
    for log in log_dir.glob("server-*.log"):
        rejected += len(re.findall(r"status=(?:429|503)", ANSI.sub("", log.read_text(errors="replace"))))
    for log in log_dir.glob("server-*.log"):
        for line in ANSI.sub("", log.read_text(errors="replace")).splitlines():
            if "panicked" in line or re.search(r"\bERROR\b", line):
                problems.append(f"server log: {line[:300]}")
    retries = 0
    for name, res in results.items():
        if isinstance(res, BaseException):
            problems.append(f"{name}: {res}")
            continue
        for label, status in res["flush"].items():
            if status != "ok":
                problems.append(f"{name}: {label} {status}")
        for rec in res["sdk_log"]:
            if RETRY_LOG.search(rec["message"]):
                retries += 1
            else:
                problems.append(f"{name}: SDK log {rec['level']} {rec['logger']}: {rec['message'][:300]}")
        for trace_id, span_ids in res["traces"].items():
            r = api.raw("GET", f"/api/public/traces/{trace_id}")
            if r.status_code != 200:
                problems.append(f"{name}: GET /api/public/traces/{trace_id}: {r.status_code} {r.text[:200]}")
                continue
            got = sorted(o.get("id") for o in r.json().get("observations", []))
            if got != span_ids:
                problems.append(
                    f"{name}: trace {trace_id}: {len(got)} of {len(span_ids)} spans stored "
                    f"(missing {sorted(set(span_ids) - set(got))[:5]})"
                )
    (log_dir / "summary.txt").write_text(f"429/503 answers: {rejected}\nSDK retry log lines: {retries}\n")
    assert not problems, (
        f"{len(problems)} problem(s) with {rejected} 429/503 answers and {retries} SDK retries:\n"
        + "\n".join(problems[:20])
    )
