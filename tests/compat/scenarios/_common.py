"""Helpers shared by the Python scenario scripts (all SDK versions).

A scenario script drives one official SDK against the server named by the
LANGFUSE_* environment variables, then prints one line
``COMPAT_SUMMARY {json}`` on stdout: the ids it created and anything the SDK
logged at WARNING or above, so the pytest side knows what to look up and can
show why an export failed.
"""

import json
import logging
import os
import sys
import threading
import time

SUMMARY_PREFIX = "COMPAT_SUMMARY "


class _Collector(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.records = []

    def emit(self, record):
        try:
            msg = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken log call must not kill the run
            msg = str(record.msg)
        self.records.append(
            {"logger": record.name, "level": record.levelname, "message": msg[:2000]}
        )


def install_log_collector():
    """Collect every WARNING+ record of every logger (SDK, OTel exporter, httpx)."""
    collector = _Collector()
    root = logging.getLogger()
    root.addHandler(collector)
    # The SDKs often configure their own loggers with propagate=True; make sure
    # their level lets warnings through.
    for name in ("langfuse", "opentelemetry"):
        lg = logging.getLogger(name)
        if lg.level == logging.NOTSET or lg.level > logging.WARNING:
            lg.setLevel(logging.WARNING)
    return collector


def bounded(fn, timeout, label, summary):
    """Run fn() in a thread and give up after `timeout` seconds.

    Records the outcome in summary["flush"][label] as "ok", "timeout" or the
    exception text.
    """
    result = {}

    def target():
        try:
            fn()
            result["status"] = "ok"
        except Exception as exc:  # noqa: BLE001
            result["status"] = f"error: {type(exc).__name__}: {exc}"

    started = time.monotonic()
    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    status = result.get("status", "timeout")
    summary.setdefault("flush", {})[label] = status
    summary.setdefault("flush_seconds", {})[label] = round(time.monotonic() - started, 3)
    return status


def env(name, default=None):
    value = os.environ.get(name, default)
    if value is None:
        sys.stderr.write(f"missing environment variable {name}\n")
        sys.exit(2)
    return value


def emit_summary(summary):
    sys.stdout.write(SUMMARY_PREFIX + json.dumps(summary, default=str) + "\n")
    sys.stdout.flush()


def flush_timeout():
    """Seconds a flush or shutdown may take (COMPAT_FLUSH_TIMEOUT, 30 by default)."""
    return float(os.environ.get("COMPAT_FLUSH_TIMEOUT", "30"))


def sdk_keys():
    """The public key, secret key and base URL the scenario runs with."""
    return env("LANGFUSE_PUBLIC_KEY"), env("LANGFUSE_SECRET_KEY"), env("LANGFUSE_BASE_URL")


def start():
    """Installs the log collector (before the SDK is imported), then reads the run id, the
    flush timeout and the keys: (collector, run, timeout, (public key, secret key, base URL))."""
    collector = install_log_collector()
    return collector, env("COMPAT_RUN_ID"), flush_timeout(), sdk_keys()


def start_client(major):
    """start(), then the run's summary and a Langfuse client of the run's keys flushing every
    second (the SDK imported only now, after the log collector):
    (collector, run, timeout, summary, client)."""
    collector, run, timeout, (pk, sk, url) = start()
    from langfuse import Langfuse

    summary = {"sdk": "python", "major": major, "run": run}
    lf = Langfuse(public_key=pk, secret_key=sk, base_url=url, flush_interval=1)
    return collector, run, timeout, summary, lf


def finish(lf, summary, sdk_log, timeout):
    """Flushes and shuts the client down (each bounded by `timeout`), then prints the
    summary with the SDK log records `sdk_log`."""
    bounded(lf.flush, timeout, "flush", summary)
    shut_down(lf, summary, sdk_log, timeout)


def shut_down(lf, summary, sdk_log, timeout):
    """Shuts the client down (bounded by `timeout`), then prints the summary with the SDK
    log records `sdk_log`."""
    bounded(lf.shutdown, timeout, "shutdown", summary)
    summary["sdk_log"] = sdk_log
    emit_summary(summary)


def take_records(collector, since):
    """The log records collected from index `since` on, taken out of the collector."""
    records = collector.records[since:]
    del collector.records[since:]
    return records


# A 1x1 transparent PNG, used for the media upload case.
PNG_1X1_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA"
    "60e6kgAAAABJRU5ErkJggg=="
)


def error_of(fn):
    """The class name and HTTP status of what fn() raised, or None when it succeeded."""
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - the error is the data
        return {"type": type(exc).__name__, "status": getattr(exc, "status_code", None), "text": str(exc)[:500]}
    return None


def note_current(lf, ids, trace_key, observation_key):
    """Keeps the current trace id and observation id under `trace_key` and `observation_key`."""
    ids[trace_key] = lf.get_current_trace_id()
    ids[observation_key] = lf.get_current_observation_id()


def sdk_read(reads, label, fn):
    """Run one read through the SDK's own API client; keep its result or error."""
    try:
        reads[label] = {"ok": True, "value": fn()}
    except Exception as exc:  # noqa: BLE001 - a failed read is data for the test
        reads[label] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:3000]}


def attr(obj, name):
    """Field of an API model object or of a plain dict."""
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)
