"""Burst of small OTLP exports from one Python SDK process (4.x or 5.x, run
with the matching venv), for the backpressure suite: COMPAT_BURST_TRACES
traces of COMPAT_BURST_SPANS spans each, exported a few spans per request.
Prints the trace ids and their span ids."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import env, finish, flush_timeout, install_log_collector  # noqa: E402


def main():
    collector = install_log_collector()
    from langfuse import Langfuse

    run = env("COMPAT_RUN_ID")
    tag = env("COMPAT_BURST_TAG")
    n_traces = int(os.environ.get("COMPAT_BURST_TRACES", "20"))
    n_spans = int(os.environ.get("COMPAT_BURST_SPANS", "10"))
    timeout = flush_timeout()
    lf = Langfuse(
        public_key=env("LANGFUSE_PUBLIC_KEY"),
        secret_key=env("LANGFUSE_SECRET_KEY"),
        base_url=env("LANGFUSE_BASE_URL"),
        flush_interval=0.05,
    )
    traces = {}
    for i in range(n_traces):
        with lf.start_as_current_observation(name=f"burst-{tag}-{i}", input={"i": i, "pad": "x" * 2000}) as root:
            spans = [root.id]
            for j in range(n_spans - 1):
                with lf.start_as_current_observation(name=f"child-{j}", input={"j": j, "pad": "y" * 2000}) as c:
                    spans.append(c.id)
            traces[root.trace_id] = sorted(spans)
    summary = {"sdk": "python", "run": run, "tag": tag, "traces": traces}
    finish(lf, summary, collector.records, timeout)


if __name__ == "__main__":
    main()
