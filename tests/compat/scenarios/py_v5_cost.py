"""Cost tracking with langfuse 5.x: a custom model created through the SDK's own
API client, then three generations (a built-in model with usage and no cost, the
custom model, a built-in model without usage). Reads the models back through the
SDK's API client, so the server's Model shape must parse."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import finish, start_client  # noqa: E402


def main():
    collector, run, timeout, summary, lf = start_client("v5")

    model_name = f"compat-model-{run}"
    created = lf.api.models.create(
        model_name=model_name,
        match_pattern=f"(?i)^{model_name}$",
        unit="TOKENS",
        input_price=0.001,
        output_price=0.002,
    )
    summary["model"] = {
        "id": created.id,
        "model_name": created.model_name,
        "is_langfuse_managed": created.is_langfuse_managed,
        "input_price": created.input_price,
    }
    fetched = lf.api.models.get(created.id)
    summary["model_fetched_name"] = fetched.model_name
    listed = lf.api.models.list(limit=100)
    summary["models_listed"] = [m.id for m in listed.data]
    summary["builtin_gpt4o"] = lf.api.models.get("openai-gpt-4o").input_price

    with lf.start_as_current_observation(name=f"cost-{run}", input={"q": "price"}) as root:
        summary["trace"] = root.trace_id
        with lf.start_as_current_observation(
            as_type="generation",
            name="builtin",
            model="gpt-4o",
            usage_details={"input": 1000, "output": 500},
            input=[{"role": "user", "content": "What does it cost?"}],
            output={"role": "assistant", "content": "Let me count."},
        ) as g:
            summary["builtin"] = g.id
        with lf.start_as_current_observation(
            as_type="generation",
            name="custom",
            model=model_name,
            usage_details={"input": 10, "output": 5},
        ) as g:
            summary["custom"] = g.id
        with lf.start_as_current_observation(
            as_type="generation",
            name="inferred",
            model="gpt-4o-2024-08-06",
            input="hello world",
            output="The quick brown fox jumps over the lazy dog.",
        ) as g:
            summary["inferred"] = g.id
    finish(lf, summary, collector.records, timeout)


if __name__ == "__main__":
    main()
