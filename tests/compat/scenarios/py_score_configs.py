"""Score configs with the official Python SDK (5.x or 4.x, the major is the first argument):
`api.score_configs.create` (numeric with a range, categorical, boolean), `get_by_id`, `get`
(paged) and `update` (archive, description); scores that name a config through
`create_score` and through the API client (`api.scores.create`: an array in 5.x, one object
in 4.x), and the API client's answers to scores out of range, of an unknown category and
naming an archived config. Prints what it saw; the test reads the scores back."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import error_of, finish, start_client  # noqa: E402


def config_summary(config):
    return {
        "id": config.id,
        "name": config.name,
        "data_type": str(getattr(config.data_type, "value", config.data_type)),
        "is_archived": config.is_archived,
        "min_value": config.min_value,
        "max_value": config.max_value,
        "categories": [{"label": c.label, "value": c.value} for c in (config.categories or [])],
        "description": config.description,
    }


def main(major):
    collector, run, timeout, summary, lf = start_client(major)
    from langfuse.api import ConfigCategory

    configs = lf.api.score_configs
    suffix = f"{run}-{major}"[-20:]
    accuracy = configs.create(name=f"accuracy {suffix}", data_type="NUMERIC", min_value=0, max_value=1,
                              description="share of right answers")
    tone = configs.create(name=f"tone {suffix}", data_type="CATEGORICAL",
                          categories=[ConfigCategory(label="rude", value=0), ConfigCategory(label="polite", value=1)])
    correct = configs.create(name=f"correct {suffix}", data_type="BOOLEAN")
    old = configs.create(name=f"old {suffix}", data_type="NUMERIC")
    summary["created"] = {key: config_summary(c) for key, c in
                          [("accuracy", accuracy), ("tone", tone), ("correct", correct), ("old", old)]}
    summary["got"] = config_summary(configs.get_by_id(tone.id))
    page = configs.get(page=1, limit=2)
    summary["page"] = {"total": page.meta.total_items, "pages": page.meta.total_pages, "count": len(page.data)}
    summary["archived"] = config_summary(configs.update(old.id, is_archived=True, description="retired"))
    summary["missing_config"] = error_of(lambda: configs.get_by_id("no-such-config"))
    summary["bad_config"] = error_of(
        lambda: configs.create(name=f"bad {suffix}", data_type="NUMERIC", min_value=5, max_value=1))

    trace_id = lf.create_trace_id()
    summary["trace_id"] = trace_id
    ids = {key: f"{key}-{suffix}" for key in ["sdk_numeric", "sdk_categorical", "sdk_boolean",
                                              "api_numeric", "api_categorical", "api_range", "api_category",
                                              "api_archived"]}
    summary["ids"] = ids
    lf.create_score(name=accuracy.name, value=0.75, trace_id=trace_id, score_id=ids["sdk_numeric"],
                    config_id=accuracy.id)
    lf.create_score(name=tone.name, value="polite", trace_id=trace_id, score_id=ids["sdk_categorical"],
                    config_id=tone.id)
    lf.create_score(name=correct.name, value=1, data_type="BOOLEAN", trace_id=trace_id,
                    score_id=ids["sdk_boolean"], config_id=correct.id)
    lf.flush()

    # The API client: valid scores stored, invalid ones answered with the reason.
    expected_from = len(collector.records)
    scores = lf.api.scores
    items = [
        ("api_numeric", accuracy, 1.0), ("api_categorical", tone, "rude"), ("api_range", accuracy, 1.5),
        ("api_category", tone, "snarky"), ("api_archived", old, 3.0),
    ]
    if major == "v5":
        from langfuse.api import CreateScoreRequest

        answer = scores.create(request=[
            CreateScoreRequest(id=ids[key], name=config.name, value=value, trace_id=trace_id, config_id=config.id)
            for key, config, value in items
        ])
        summary["api_batch"] = {"accepted": answer.accepted, "rejected": answer.rejected,
                                "errors": [e.message for e in answer.errors]}
    else:
        summary["api_single"] = {
            key: error_of(lambda config=config, value=value, key=key: scores.create(
                id=ids[key], name=config.name, value=value, trace_id=trace_id, config_id=config.id))
            for key, config, value in items
        }
    summary["expected_sdk_log"] = collector.records[expected_from:]
    del collector.records[expected_from:]
    finish(lf, summary, collector.records, timeout)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "v5")
