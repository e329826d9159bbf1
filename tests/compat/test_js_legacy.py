"""Legacy JS SDK (npm `langfuse` 3.x, batch ingestion) against Spindle.

Not in the issue's list, but the SDK is still widely used and it sends the
events of a batch out of causal order (updates before creates), which the
server's merge must absorb."""

from compat_helpers import assert_clean_run, check_obs, check_score, check_trace, read_trace, scenario_fixture
from conftest import Check

# scenarios this module reads (started together when COMPAT_PARALLEL=1)
SCENARIOS_USED = ["js_legacy"]

run = scenario_fixture("js_legacy")


def test_sdk_run_clean(run):
    assert_clean_run(run)


def test_out_of_order_batch_merges(api, run):
    ck = Check("legacy JS trace")
    ids = run["trace"]
    t, obs = read_trace(api, ids["trace"])
    check_trace(ck, t, name="jsl-trace", user_id=ids["user_id"], session_id=ids["session_id"],
                tags=["jl1", "jl2"], metadata={"plan": "pro"}, input={"q": "legacy"}, output={"a": "done"},
                environment="compat", release="rel-jsl", observations=(obs, 3))
    check_obs(ck, obs, ids["span"], name="jsl-span", type="SPAN", parent=None, input={"step": 1},
              output="span-out", level="ERROR", status_message="legacy failure", metadata={"k": "v"})
    check_obs(ck, obs, ids["gen"], name="jsl-gen", type="GENERATION", parent=ids["span"], model="gpt-4o-mini",
              model_parameters={"temperature": 0.5}, input=[{"role": "user", "content": "hi"}],
              output={"role": "assistant", "content": "yo"}, usage={"input": 10, "output": 20, "total": 30})
    check_obs(ck, obs, ids["event"], name="jsl-event", type="EVENT", parent=ids["span"], level="WARNING",
              input={"e": 1})
    scores = [s for s in t.get("scores", []) if isinstance(s, dict)]
    check_score(ck, scores, "jsl-score", data_type="NUMERIC", value=1, comment="c", observation_id=None)
    check_score(ck, scores, "jsl-cat", data_type="CATEGORICAL", string_value="good", observation_id=ids["gen"])
    ck.done()
