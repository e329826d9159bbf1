"""Writes one trace and one score with the keys it is given (project B in the
auth suite) using langfuse 5.x, and checks auth_check() with unknown keys."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import bounded, emit_summary, start  # noqa: E402


def main():
    collector, run, timeout, (pk, sk, url) = start()
    from langfuse import Langfuse

    summary = {"sdk": "python", "major": "v5", "run": run}

    # The SDK keeps one client per public key in the process, so the wrong
    # credentials use a public key of their own.
    wrong = Langfuse(public_key=pk + "-unknown", secret_key=sk + "-wrong", base_url=url, tracing_enabled=False)
    try:
        summary["auth_check_wrong_keys"] = wrong.auth_check()
    except Exception as exc:  # noqa: BLE001
        summary["auth_check_wrong_keys"] = f"raised {type(exc).__name__}: {exc}"[:500]
    n_wrong = len(collector.records)

    lf = Langfuse(public_key=pk, secret_key=sk, base_url=url, flush_interval=1)
    try:
        summary["auth_check"] = lf.auth_check()
    except Exception as exc:  # noqa: BLE001
        summary["auth_check"] = f"raised {type(exc).__name__}: {exc}"[:1500]
    session_id = f"iso-sess-{run}"
    from langfuse import propagate_attributes

    with propagate_attributes(session_id=session_id, user_id=f"iso-user-{run}"):
        with lf.start_as_current_observation(name="iso-trace", input={"project": "b"}) as root:
            summary["trace"] = root.trace_id
            summary["span"] = root.id
            lf.score_current_trace(name="iso-score", value=1.0)
    summary["session_id"] = session_id

    # A second client in the same process with the other project's keys: each
    # client's spans must reach only its own project.
    other_pk, other_sk = os.environ.get("COMPAT_OTHER_PUBLIC_KEY"), os.environ.get("COMPAT_OTHER_SECRET_KEY")
    other = None
    if other_pk and other_sk:
        other = Langfuse(public_key=other_pk, secret_key=other_sk, base_url=url, flush_interval=1)
        with other.start_as_current_observation(name="iso-other-client-trace") as o:
            summary["other_trace"] = o.trace_id
        with lf.start_as_current_observation(name="iso-trace-2") as s2:
            summary["trace_2"] = s2.trace_id
        bounded(other.flush, timeout, "other_flush", summary)
    bounded(lf.flush, timeout, "flush", summary)
    bounded(lf.shutdown, timeout, "shutdown", summary)
    # records logged by the wrong-key client are expected; keep the rest
    summary["wrong_key_log"] = collector.records[:n_wrong]
    summary["sdk_log"] = collector.records[n_wrong:]
    emit_summary(summary)


if __name__ == "__main__":
    main()
