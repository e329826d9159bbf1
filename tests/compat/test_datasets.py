"""Datasets with the official Python SDK 5.x and 4.x (`create_dataset`, `create_dataset_item`
with an upsert by id, `get_dataset`, `api.datasets.list`, `api.dataset_items.list/get/delete`,
an unknown dataset), and with 4.x runs (`dataset.run_experiment` with an evaluator, which
links each item's trace through `api.dataset_run_items.create`; `get_dataset_runs`,
`get_dataset_run`, `api.dataset_run_items.list`, `delete_dataset_run`), read back through the
public API."""

from compat_helpers import assert_clean_run, encoded, majors_fixture, scenario_fixture
from conftest import Check

SCENARIOS_USED = ["py_datasets_v5", "py_datasets_v4"]

run = majors_fixture("py_datasets")
v4_run = scenario_fixture("py_datasets_v4")


def test_sdk_run_clean(run):
    assert_clean_run(run)


def test_dataset_created_updated_and_read(api, run):
    ck = Check(f"python {run['major']} datasets")
    name = run["name"]
    ck.eq(run["created"]["name"], name, "created name")
    ck.eq(run["created"]["metadata"], {"owner": "geo"}, "created metadata")
    ck.eq(run["updated"]["id"], run["created"]["id"], "an update by name keeps the id")
    ck.eq(run["updated"]["description"], "world capitals", "updated description")
    ck.eq(run["updated"]["metadata"], {"owner": "geo"}, "metadata kept")
    ck.eq(run["dataset"]["id"], run["created"]["id"], "get_dataset id")
    ck.eq(run["dataset"]["description"], "world capitals", "get_dataset description")
    ck.true(name in run["listed_names"], f"api.datasets.list names {name}")
    read = api.get(f"/api/public/v2/datasets/{encoded(name)}")
    ck.eq(read["id"], run["created"]["id"], "read back by encoded name")
    ck.done()


def test_items_upserted_listed_and_deleted(api, run):
    ck = Check(f"python {run['major']} dataset items")
    name = run["name"]
    ck.eq(run["italy"]["status"], "ACTIVE", "a new item is active")
    ck.eq(run["italy"]["input"], {"country": "Italy"}, "input")
    ck.eq(run["italy"]["expected_output"], "Rome", "expected output")
    ck.eq(run["italy"]["metadata"], {"difficulty": 1}, "metadata")
    ck.eq(run["italy"]["dataset_name"], name, "dataset name")
    ck.eq(run["archived"]["status"], "ARCHIVED", "upsert by id archives")
    ck.eq(run["archived"]["input"], {"country": "France"}, "upsert keeps the input")
    ck.eq(run["archived"]["expected_output"], "Paris", "upsert keeps the expected output")
    items = run["dataset"]["items"]
    ck.eq(len(items), 2, "get_dataset read every item, one per page")
    ck.eq(sorted(i["id"] for i in items), sorted([run["italy"]["id"], run["archived"]["id"]]), "item ids")
    ck.eq(run["items_page"], {"total": 2, "pages": 2, "count": 1}, "api.dataset_items.list page")
    ck.eq(run["by_trace"], [run["italy"]["id"]], "listed by source trace")
    ck.eq(run["got"], run["italy"], "api.dataset_items.get")
    ck.eq(run["deleted"], "Dataset item successfully deleted", "delete answer")
    ck.eq((run["after_delete"] or {}).get("status"), 404, "a deleted item is gone")
    left = api.get("/api/public/dataset-items", params={"datasetName": name})
    ck.eq([i["id"] for i in left["data"]], [run["archived"]["id"]], "one item left")
    ck.done()


def test_unknown_dataset(run):
    ck = Check(f"python {run['major']} dataset errors")
    ck.eq((run["missing_dataset"] or {}).get("status"), 404, "get_dataset of an unknown name")
    ck.eq((run["item_of_missing_dataset"] or {}).get("status"), 404, "an item of an unknown dataset")
    ck.eq(run["has_runs_api"], run["major"] == "v4", "the runs API client exists in 4.x only")
    ck.done()


def test_v4_experiment_runs(api, v4_run):
    ck = Check("python v4 dataset runs")
    run = v4_run
    items = run["experiment"]["items"]
    ck.eq(sorted(i["output"] for i in items), ["Lyon", "Rome"], "task outputs")
    ck.eq(sorted(e for i in items for e in i["evaluations"]), [["exact", 0.0], ["exact", 1.0]], "evaluations")
    ck.eq(run["runs"]["total"], 1, "one run")
    ck.eq(run["runs"]["data"][0]["name"], run["experiment"]["run_name"], "run name")
    ck.eq(run["run"]["description"], "first try", "run description")
    ck.eq(run["run"]["metadata"], {"model": "lookup"}, "run metadata")
    run_items = run["run_items"]
    ck.eq(len(run_items), 2, "one run item per item")
    ck.eq(sorted(i["trace_id"] for i in run_items), sorted(i["trace_id"] for i in items), "linked traces")
    ck.true(all(i["observation_id"] for i in run_items), "linked task observations")
    ck.eq(run["run_items_page"], {"total": 2, "pages": 2, "count": 1}, "api.dataset_run_items.list page")
    for item in run_items:
        trace = api.trace(item["trace_id"])
        ck.true(item["observation_id"] in [o["id"] for o in trace["observations"]],
                f"observation {item['observation_id']} is in trace {item['trace_id']}")
    ck.eq(run["delete_run"], "Dataset run successfully deleted", "delete answer")
    ck.eq(run["runs_after_delete"], 0, "no run after the delete")
    ck.eq((run["archived_run_item"] or {}).get("status"), 400, "an archived item takes no part in new runs")
    ck.true("datasetItemId" in (run["archived_run_item"] or {}).get("text", ""), "names the field")
    ck.eq((run["missing_run"] or {}).get("status"), 404, "an unknown run")
    ck.done()
