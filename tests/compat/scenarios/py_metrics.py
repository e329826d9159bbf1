"""The metrics API with the official Python SDK (5.x or 4.x, the major is the first
argument): three generations of two models under one trace, exported and flushed, then
queried through the SDK's own API client: `api.metrics.metrics` (GET /api/public/v2/metrics)
grouped by model with a filter on the trace name, and with 4.x also
`api.legacy.metrics_v1.metrics` (GET /api/public/metrics) over the traces view with a day
bucket; and a query with an unknown dimension. Prints what it saw."""

import datetime as dt
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import error_of, finish, start_client  # noqa: E402


def iso(moment):
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def main(major):
    collector, run, timeout, summary, lf = start_client(major)
    trace_name = f"metrics-{run}-{major}"
    summary["trace_name"] = trace_name

    with lf.start_as_current_observation(name=trace_name) as root:
        summary["trace"] = root.trace_id
        for model, usage in [("gpt-4o", (10, 5)), ("gpt-4o", (20, 10)), ("claude-3-haiku", (1, 1))]:
            with lf.start_as_current_observation(
                as_type="generation",
                name="llm",
                model=model,
                usage_details={"input": usage[0], "output": usage[1], "total": usage[0] + usage[1]},
            ):
                pass
    lf.flush()

    now = dt.datetime.now(dt.timezone.utc)
    window = {"fromTimestamp": iso(now - dt.timedelta(hours=1)), "toTimestamp": iso(now + dt.timedelta(hours=1))}
    by_model = {
        "view": "observations",
        "dimensions": [{"field": "providedModelName"}],
        "metrics": [{"measure": "count", "aggregation": "count"},
                    {"measure": "totalTokens", "aggregation": "sum"}],
        "filters": [{"column": "traceName", "operator": "=", "value": trace_name, "type": "string"},
                    {"column": "type", "operator": "=", "value": "GENERATION", "type": "string"}],
        "orderBy": [{"field": "providedModelName", "direction": "asc"}],
        **window,
    }
    # The export was flushed; allow the server a moment to have committed every span.
    deadline = time.monotonic() + 15
    while True:
        v2 = lf.api.metrics.metrics(query=json.dumps(by_model))
        summary["v2"] = v2.data
        if sum(int(row.get("count_count", 0)) for row in v2.data) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.5)

    summary["has_v1_client"] = hasattr(lf.api, "legacy")
    if summary["has_v1_client"]:
        by_day = {
            "view": "traces",
            "dimensions": [{"field": "name"}],
            "metrics": [{"measure": "count", "aggregation": "count"}],
            "filters": [{"column": "name", "operator": "=", "value": trace_name, "type": "string"}],
            "timeDimension": {"granularity": "day"},
            "orderBy": [{"field": "count_count", "direction": "desc"}],
            **window,
        }
        summary["v1"] = lf.api.legacy.metrics_v1.metrics(query=json.dumps(by_day)).data

    # Errors. What the SDK logs about them is expected, kept apart from the run's log.
    expected_from = len(collector.records)
    bad = dict(by_model, dimensions=[{"field": "nope"}])
    summary["bad_dimension"] = error_of(lambda: lf.api.metrics.metrics(query=json.dumps(bad)))
    summary["expected_sdk_log"] = collector.records[expected_from:]
    del collector.records[expected_from:]
    finish(lf, summary, collector.records, timeout)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "v5")
