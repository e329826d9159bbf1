"""Usage and cost with the official Python SDK 5.x: a generation of a built-in
model with usage and no cost, one of a custom model created through the SDK's
API client, and one without usage (counted with the model's tokenizer)."""

from compat_helpers import assert_clean_run, scenario_fixture
from conftest import Check

SCENARIOS_USED = ["py_v5_cost"]

run = scenario_fixture("py_v5_cost")


def close(ck, actual, expected, what):
    ok = isinstance(actual, (int, float)) and abs(actual - expected) <= 1e-12 + abs(expected) * 1e-9
    ck.true(ok, f"{what}: expected about {expected!r}, got {actual!r}")


def test_sdk_run_clean(run):
    assert_clean_run(run)


def test_models_api_through_the_sdk_client(api, run):
    ck = Check("models API")
    model = run["model"]
    ck.eq(model["is_langfuse_managed"], False, "created model is custom")
    ck.eq(model["input_price"], 0.001, "created model input price")
    ck.eq(run["model_fetched_name"], model["model_name"], "get by id through the SDK")
    ck.eq(model["id"] in run["models_listed"], True, "listed through the SDK")
    ck.eq(run["builtin_gpt4o"], 2.5e-06, "built-in gpt-4o input price")
    listed = api.get("/api/public/models", params={"limit": 100})
    ck.eq(listed["data"][0]["id"], model["id"], "custom models listed first")
    ck.done()


def test_builtin_price_without_cost(api, run):
    ck = Check("gpt-4o with usage, no cost")
    o = api.get(f"/api/public/observations/{run['builtin']}")
    ck.eq(o["model"], "gpt-4o", "model")
    ck.eq(o["modelId"], "openai-gpt-4o", "matched built-in entry")
    # as reported, plus the `total` Langfuse adds (the sum) when a map has none
    ck.eq(o["usageDetails"], {"input": 1000, "output": 500, "total": 1500}, "usage as reported")
    close(ck, o["calculatedInputCost"], 1000 * 2.5e-6, "input cost")
    close(ck, o["calculatedOutputCost"], 500 * 10e-6, "output cost")
    close(ck, o["calculatedTotalCost"], 0.0075, "total cost")
    ck.eq(o["usageInferred"], False, "usage not inferred")
    ck.done()


def test_custom_model_price(api, run):
    ck = Check("custom model")
    o = api.get(f"/api/public/observations/{run['custom']}")
    ck.eq(o["modelId"], run["model"]["id"], "matched the custom model")
    close(ck, o["calculatedTotalCost"], 10 * 0.001 + 5 * 0.002, "total cost")
    ck.done()


def test_usage_inferred_with_the_tokenizer(api, run):
    ck = Check("generation without usage")
    o = api.get(f"/api/public/observations/{run['inferred']}")
    ck.eq(o["modelId"], "openai-gpt-4o", "dated name matched")
    ck.eq(o["usageInferred"], True, "usage marked as inferred")
    # o200k_base: "hello world" is 2 tokens, the fox sentence 10.
    ck.eq(o["usageDetails"], {"input": 2, "output": 10, "total": 12}, "inferred usage")
    close(ck, o["calculatedTotalCost"], 2 * 2.5e-6 + 10 * 10e-6, "cost of the inferred usage")
    ck.done()


def test_cost_rolls_up_to_the_trace(api, run):
    ck = Check("trace total")
    t = api.trace(run["trace"])
    close(ck, t["totalCost"], 0.0075 + 0.02 + 2 * 2.5e-6 + 10 * 10e-6, "trace totalCost")
    ck.done()
