"""Datasets with the official Python SDK (5.x or 4.x, the major is the first argument):
create a dataset (a name in a folder) and its items (generated and given ids, an upsert
that archives one), read it back with get_dataset and the API client (list datasets, list
items by dataset and by source trace, get an item, delete an item), and the error cases (an
unknown dataset, an item of an unknown dataset). With 4.x also runs: dataset.run_experiment
with a task and an evaluator (one run item per item, linked to the task's trace), then the
runs listed, one read with its items, its items listed by the API client, and deleted. With
5.x, whose run_experiment only tags its spans, the same experiment for the test to read back,
and an item whose input and expected output hold `LangfuseMedia` (uploaded for the item, then
read back by get_dataset as resolved media references whose bytes are fetched).
Prints what it saw; the test reads the rest back."""

import base64
import os
import sys
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import error_of, finish, start_client  # noqa: E402


def item_summary(item):
    return {
        "id": item.id,
        "status": str(getattr(item.status, "value", item.status)),
        "input": item.input,
        "expected_output": item.expected_output,
        "metadata": item.metadata,
        "source_trace_id": item.source_trace_id,
        "dataset_name": item.dataset_name,
    }


def run_summary(run):
    return {"id": run.id, "name": run.name, "description": run.description, "metadata": run.metadata,
            "dataset_name": run.dataset_name}


def capitals_dataset(lf, name):
    """A dataset of two countries and their capitals, read back."""
    lf.create_dataset(name=name)
    for country, capital in [("Italy", "Rome"), ("France", "Paris")]:
        lf.create_dataset_item(dataset_name=name, input={"country": country}, expected_output=capital)
    return lf.get_dataset(name)


def task(*, item, **kwargs):
    """The experiments' task: right about Italy, wrong about France."""
    return {"Italy": "Rome", "France": "Lyon"}[item.input["country"]]


def exact(*, input, output, expected_output=None, **kwargs):
    from langfuse import Evaluation

    return Evaluation(name="exact", value=1.0 if output == expected_output else 0.0)


def first_run(lf, run, major):
    """The capitals dataset and a first run over it with a description and metadata: the
    dataset's name, the dataset, and what the run gave."""
    name = f"compat-{run}-{major}/experiment"
    dataset = capitals_dataset(lf, name)
    result = dataset.run_experiment(
        name="capitals", run_name=f"run-{run}-{major}", description="first try", task=task, evaluators=[exact],
        metadata={"model": "lookup"},
    )
    return name, dataset, {
        "dataset_id": dataset.id,
        "run_name": f"run-{run}-{major}",
        "items": [{"output": r.output, "trace_id": r.trace_id,
                   "evaluations": [(e.name, e.value) for e in r.evaluations]}
                  for r in result.item_results],
    }


def experiment(lf, summary, run, major):
    """4.x: a run through dataset.run_experiment, read back and deleted; returns the
    dataset's name."""
    name, dataset, summary["experiment"] = first_run(lf, run, major)
    runs = lf.get_dataset_runs(dataset_name=name)
    summary["runs"] = {"total": runs.meta.total_items, "data": [run_summary(r) for r in runs.data]}
    read = lf.get_dataset_run(dataset_name=name, run_name=f"run-{run}-{major}")
    summary["run"] = run_summary(read)
    summary["run_items"] = [
        {"dataset_item_id": i.dataset_item_id, "trace_id": i.trace_id, "observation_id": i.observation_id,
         "run_name": i.dataset_run_name}
        for i in read.dataset_run_items
    ]
    listed = lf.api.dataset_run_items.list(dataset_id=dataset.id, run_name=f"run-{run}-{major}", limit=1)
    summary["run_items_page"] = {"total": listed.meta.total_items, "pages": listed.meta.total_pages,
                                 "count": len(listed.data)}
    experiments_api(lf, summary, dataset, f"run-{run}-{major}")
    # A second run with the same evaluator, kept for its aggregates.
    dataset.run_experiment(name="capitals", run_name=f"kept-{run}", task=task, evaluators=[exact])
    summary["aggregated_run"] = f"kept-{run}"
    summary["experiment"]["dataset_name"] = name
    summary["delete_run"] = lf.delete_dataset_run(dataset_name=name, run_name=f"run-{run}-{major}").message
    summary["runs_after_delete"] = [r.name for r in lf.get_dataset_runs(dataset_name=name).data]
    return name


def experiment_v5(lf, summary, run, major):
    """5.x: dataset.run_experiment with an evaluator. The SDK only tags its spans; the test
    reads the run and its run items back through the public API."""
    name, dataset, experiment_summary = first_run(lf, run, major)
    summary["experiment_v5"] = {**experiment_summary, "dataset_name": name,
                                "item_ids": sorted(item.id for item in dataset.items)}


def experiments_api(lf, summary, dataset, run_name):
    """4.x: the run through the experiments API client, and a run item at a dataset version."""
    since = datetime.now(timezone.utc) - timedelta(hours=1)
    experiments = lf.api.experiments.list(from_start_time=since, name=run_name, fields="core,metadata")
    summary["experiments"] = [{"name": e.name, "item_count": e.item_count, "dataset_id": e.dataset_id,
                               "metadata": e.metadata} for e in experiments.data]
    items = lf.api.experiments.list_items(from_start_time=since, experiment_name=run_name,
                                          fields="core,dataset,io,scores")
    summary["experiment_items"] = [
        {"item_id": i.experiment_item_id, "trace_id": i.trace_id, "output": i.output,
         "expected_output": i.expected_output,
         "version": i.experiment_item_version.isoformat() if i.experiment_item_version else None,
         "scores": sorted([s.name, s.value] for s in (i.scores or []))}
        for i in items.data
    ]
    lf.api.dataset_run_items.create(run_name=f"{run_name}-pinned", dataset_item_id=dataset.items[0].id,
                                    trace_id=items.data[0].trace_id, dataset_version=datetime.now(timezone.utc))
    summary["pinned_run"] = {"dataset": dataset.name, "run": f"{run_name}-pinned"}


def schemas(lf, summary, run, major):
    """A dataset with JSON Schemas for inputs and expected outputs; returns a function that
    records the refused items (called where errors are expected)."""
    name = f"compat-{run}-{major}/schemas"
    input_schema = {"type": "object", "required": ["country"], "properties": {"country": {"type": "string"}}}
    created = lf.create_dataset(name=name, input_schema=input_schema, expected_output_schema={"type": "string"})
    valid = lf.create_dataset_item(dataset_name=name, input={"country": "Peru"}, expected_output="Lima")
    summary["schemas"] = {"dataset": {"input_schema": created.input_schema}, "valid": valid.input}

    def refusal(fn):
        """The status and the message of the API error fn() raised."""
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - the error is the data
            body = getattr(exc, "body", None)
            message = body.get("message") if isinstance(body, dict) else str(body)
            return {"status": getattr(exc, "status_code", None), "text": message}
        return None

    def refused():
        summary["schemas"]["bad_input"] = refusal(
            lambda: lf.create_dataset_item(dataset_name=name, input={"country": 7}, expected_output="x"))
        summary["schemas"]["bad_expected"] = refusal(
            lambda: lf.create_dataset_item(dataset_name=name, input={"country": "Chile"}, expected_output=3))
    return refused


# A 1×1 PNG, and other bytes for the expected output (the SDK does not look inside).
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")
OTHER_PNG = PNG + b"other"


def media_items(lf, summary, run, major):
    """5.x: an item with LangfuseMedia in its input and expected output. The SDK uploads each
    for the item (the dataset's id, the item's id, the field) before creating the item with
    their reference strings; get_dataset puts the resolved media back in place."""
    from langfuse import LangfuseMedia, LangfuseMediaReference

    name = f"compat-{run}-{major}/media"
    lf.create_dataset(name=name)
    created = lf.create_dataset_item(
        dataset_name=name,
        id=f"media-{run}-{major}",
        input={"question": "what is it?", "image": LangfuseMedia(content_bytes=PNG, content_type="image/png")},
        expected_output=[LangfuseMedia(content_bytes=OTHER_PNG, content_type="image/png"), "pixel"],
    )
    summary["media_item"] = {
        "id": created.id,
        "input": created.input,
        "expected_output": created.expected_output,
        "references": sorted(
            ({"field": str(getattr(r.field, "value", r.field)), "json_path": r.json_path,
              "reference_string": r.reference_string, "media_id": r.media.media_id,
              "content_type": r.media.content_type, "content_length": r.media.content_length}
             for r in created.media_references),
            key=lambda r: r["field"]),
    }
    item = lf.get_dataset(name).items[0]
    image = item.input["image"]
    expected = item.expected_output[0]
    summary["media_hydrated"] = {
        "question": item.input["question"],
        "image_is_reference": isinstance(image, LangfuseMediaReference),
        "image_media_id": getattr(image, "media_id", None),
        "image_content_type": getattr(image, "content_type", None),
        "image_bytes_match": isinstance(image, LangfuseMediaReference) and image.fetch_bytes() == PNG,
        "expected_is_reference": isinstance(expected, LangfuseMediaReference),
        "expected_bytes_match": isinstance(expected, LangfuseMediaReference) and expected.fetch_bytes() == OTHER_PNG,
        "expected_rest": item.expected_output[1:],
    }


def main(major):
    collector, run, timeout, summary, lf = start_client(major)
    name = f"compat-{run}-{major}/capitals"
    summary["name"] = name

    created = lf.create_dataset(name=name, description="capital cities", metadata={"owner": "geo"})
    summary["created"] = {"id": created.id, "name": created.name, "description": created.description,
                          "metadata": created.metadata}
    updated = lf.create_dataset(name=name, description="world capitals")
    summary["updated"] = {"id": updated.id, "description": updated.description, "metadata": updated.metadata}

    italy = lf.create_dataset_item(dataset_name=name, input={"country": "Italy"}, expected_output="Rome",
                                   metadata={"difficulty": 1}, source_trace_id=f"trace-{run}-{major}")
    france_id = f"france-{run}-{major}"
    lf.create_dataset_item(dataset_name=name, id=france_id, input={"country": "France"}, expected_output="Paris")
    archived = lf.create_dataset_item(dataset_name=name, id=france_id, status="ARCHIVED")
    summary["italy"] = item_summary(italy)
    summary["archived"] = item_summary(archived)

    dataset = lf.get_dataset(name, fetch_items_page_size=1)
    summary["dataset"] = {"id": dataset.id, "name": dataset.name, "description": dataset.description,
                          "metadata": dataset.metadata,
                          "items": sorted((item_summary(i) for i in dataset.items), key=lambda i: i["id"])}

    listed = lf.api.datasets.list(limit=100)
    summary["listed_names"] = [d.name for d in listed.data]
    items = lf.api.dataset_items.list(dataset_name=name, limit=1)
    summary["items_page"] = {"total": items.meta.total_items, "pages": items.meta.total_pages,
                             "count": len(items.data)}
    by_trace = lf.api.dataset_items.list(source_trace_id=f"trace-{run}-{major}")
    summary["by_trace"] = [i.id for i in by_trace.data]
    summary["got"] = item_summary(lf.api.dataset_items.get(italy.id))
    summary["deleted"] = lf.api.dataset_items.delete(italy.id).message
    summary["after_delete"] = error_of(lambda: lf.api.dataset_items.get(italy.id))

    refused_by_schemas = schemas(lf, summary, run, major)
    summary["has_runs_api"] = hasattr(lf.api, "dataset_run_items")
    experiment_name = experiment(lf, summary, run, major) if summary["has_runs_api"] else None
    if not summary["has_runs_api"]:
        experiment_v5(lf, summary, run, major)
    if major == "v5":
        media_items(lf, summary, run, major)

    # Errors. What the SDK logs about them is expected, kept apart from the run's log.
    expected_from = len(collector.records)
    summary["missing_dataset"] = error_of(lambda: lf.get_dataset(f"compat-{run}-{major}-absent"))
    refused_by_schemas()
    summary["item_of_missing_dataset"] = error_of(
        lambda: lf.create_dataset_item(dataset_name=f"compat-{run}-{major}-absent", input=1)
    )
    if experiment_name:
        archived_item = lf.create_dataset_item(dataset_name=experiment_name, input={"country": "Spain"},
                                               status="ARCHIVED")
        summary["archived_run_item"] = error_of(
            lambda: lf.api.dataset_run_items.create(run_name="late", dataset_item_id=archived_item.id,
                                                    trace_id="t")
        )
        summary["missing_run"] = error_of(
            lambda: lf.get_dataset_run(dataset_name=experiment_name, run_name="absent")
        )
    summary["expected_sdk_log"] = collector.records[expected_from:]
    del collector.records[expected_from:]
    finish(lf, summary, collector.records, timeout)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "v5")
