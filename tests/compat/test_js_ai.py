"""The Vercel AI SDK (npm `ai` 6.x, its mock language model) exporting through @langfuse/otel.

Langfuse makes a generation only of the model-call spans (`ai.generateText.doGenerate`,
`ai.streamText.doStream`); the `ai.generateText` / `ai.streamText` spans around them stay spans,
so a call's tokens count once. AI SDK 6's usage details become Langfuse's usage types.
"""

import pytest

from compat_helpers import assert_clean_run, check_obs, read_trace, scenario_fixture
from conftest import Check

SCENARIOS_USED = ["js_ai"]

run = scenario_fixture("js_ai")

# the mock model reports input 100 (50 uncached, 30 read from cache, 20 written to it) and
# output 40 (25 text, 15 reasoning): stored by Langfuse's usage types, each token once
EXPECTED_USAGE = {
    "input": 50,
    "input_cached_tokens": 30,
    "input_cache_creation": 20,
    "output": 25,
    "output_reasoning_tokens": 15,
    "total": 140,
}


def test_sdk_run_clean(run):
    assert_clean_run(run)


@pytest.mark.parametrize("case, outer, call, text", [
    ("generate", "ai.generateText", "ai.generateText.doGenerate", "Hello from the mock model"),
    ("stream", "ai.streamText", "ai.streamText.doStream", "Streamed answer"),
])
def test_one_generation_per_model_call(api, run, case, outer, call, text):
    ck = Check(f"AI SDK {case}")
    ids = run[case]
    ck.eq(ids.get("text"), text, "text the SDK returned")
    t, obs = read_trace(api, ids["trace"])
    by_name = {}
    for o in obs.values():
        by_name.setdefault(o.get("name"), []).append(o)
    ck.eq(sorted(by_name), sorted([f"ai-sdk-{case}-{run['run']}", outer, call]), "observation names")
    ck.eq(sorted(o.get("type") for o in obs.values()), ["GENERATION", "SPAN", "SPAN"], "observation types")
    outer_obs = (by_name.get(outer) or [{}])[0]
    call_obs = (by_name.get(call) or [{}])[0]
    check_obs(ck, obs, outer_obs.get("id"), name=outer, type="SPAN", parent=ids["root"], model="mock-model-id")
    ck.eq(outer_obs.get("usageDetails"), {"input": 0, "output": 0, "total": 0},
          f"{outer}.usageDetails (the call's tokens are on its model-call span)")
    check_obs(ck, obs, call_obs.get("id"), name=call, type="GENERATION", parent=outer_obs.get("id"),
              model="mock-model-id", output=text)
    ck.eq(call_obs.get("usageDetails"), EXPECTED_USAGE, f"{call}.usageDetails")
    # counted once: the usage of the whole trace is the model call's
    total = sum((o.get("usageDetails") or {}).get("total", 0) for o in obs.values())
    ck.eq(total, 140, "sum of usageDetails.total over the trace's observations")
    listed = api.get("/api/public/v2/observations", params={"traceId": ids["trace"], "type": "GENERATION"})
    ck.eq([o.get("name") for o in listed.get("data") or []], [call], "GET /api/public/v2/observations?type=GENERATION")
    ck.done()
