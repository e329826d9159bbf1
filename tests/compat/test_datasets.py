"""Datasets with the official Python SDK 5.x and 4.x (`create_dataset`, `create_dataset_item`
with an upsert by id, `get_dataset`, `api.datasets.list`, `api.dataset_items.list/get/delete`,
an unknown dataset), and with 4.x runs (`dataset.run_experiment` with an evaluator, which
links each item's trace through `api.dataset_run_items.create`; `get_dataset_runs`,
`get_dataset_run`, `api.dataset_run_items.list`, `delete_dataset_run`); and with the JS SDK
5.x (`api.datasets.create`, `api.datasetItems.create/delete`, `dataset.createItem`, `dataset.get`
now and at a `version` before an archive and a delete, `experiment.run` with an evaluator,
`api.datasets.getRun/getRuns`, `api.datasetRunItems.list`, a run at a `datasetVersion`,
`api.experiments.list/listItems`, `dataset.createItem` with `LangfuseMedia` read back resolved by
`dataset.get`); schema validation of items against the dataset's
`inputSchema`/`expectedOutputSchema` (5.x and 4.x); with 5.x an item holding `LangfuseMedia`
(uploaded for the item, linked to it, resolved by `get_dataset` and fetched); with 4.x the
experiments API client and a run item with a `dataset_version`; a run's aggregates through the UI API after a run with an
evaluator; all read back through the public API."""

from compat_helpers import assert_clean_run, encoded, majors_fixture, scenario_fixture
from conftest import PROJECT_A, Check

SCENARIOS_USED = ["py_datasets_v5", "py_datasets_v4", "js_datasets"]

run = majors_fixture("py_datasets")
v4_run = scenario_fixture("py_datasets_v4")
v5_run = scenario_fixture("py_datasets_v5")
js_run = scenario_fixture("js_datasets")


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


def test_v5_item_media_uploaded_linked_and_resolved(api, v5_run):
    ck = Check("python v5 dataset item media")
    run = v5_run
    created = run["media_item"]
    refs = created["references"]
    ck.eq([(r["field"], r["json_path"]) for r in refs], [("expectedOutput", "$[0]"), ("input", "$['image']")],
          "one reference per media, where the SDK put it")
    ck.eq(created["input"]["image"], next(r["reference_string"] for r in refs if r["field"] == "input"),
          "the stored input holds the reference string")
    ck.true(created["input"]["image"].startswith("@@@langfuseMedia:type=image/png|id="), "a media reference")
    ck.eq(created["expected_output"][1], "pixel", "the rest of the expected output")
    ck.eq([r["content_type"] for r in refs], ["image/png", "image/png"], "content types")
    ck.eq(next(r["content_length"] for r in refs if r["field"] == "input"), 70, "the image's length")
    hydrated = run["media_hydrated"]
    ck.eq(hydrated["question"], "what is it?", "plain input values stay")
    ck.true(hydrated["image_is_reference"], "get_dataset resolved the input's media")
    ck.eq(hydrated["image_media_id"], next(r["media_id"] for r in refs if r["field"] == "input"), "its id")
    ck.eq(hydrated["image_content_type"], "image/png", "its type")
    ck.true(hydrated["image_bytes_match"], "the input's bytes fetched from the download URL")
    ck.true(hydrated["expected_is_reference"], "get_dataset resolved the expected output's media")
    ck.true(hydrated["expected_bytes_match"], "the expected output's bytes")
    ck.eq(hydrated["expected_rest"], ["pixel"], "the rest of the expected output stays")
    # Read back through the public API: the item with its references, and the media itself.
    item = api.get(f"/api/public/dataset-items/{encoded(created['id'])}")
    ck.eq(sorted(r["field"] for r in item["mediaReferences"]), ["expectedOutput", "input"], "read back")
    for ref in refs:
        media = api.get(f"/api/public/media/{ref['media_id']}")
        ck.eq(media["contentType"], "image/png", f"media {ref['field']} registered")
        ck.true(media["uploadedAt"] is not None, f"media {ref['field']} uploaded")
    ck.done()


def test_js_item_media_uploaded_linked_and_resolved(api, js_run):
    ck = Check("js dataset item media")
    created = js_run["media_item"]
    ck.eq([(r["field"], r["json_path"]) for r in created["references"]],
          [("expectedOutput", "$['reference']"), ("input", "$['image']")], "one reference per media")
    ck.true(created["input"]["image"].startswith("@@@langfuseMedia:type=image/png|id="), "the stored reference")
    ck.eq(created["expected_output"]["label"], "pixel", "the rest of the expected output")
    hydrated = js_run["media_hydrated"]
    ck.eq(hydrated["question"], "what is it?", "plain input values stay")
    ck.true(hydrated["image_is_reference"], "dataset.get resolved the input's media")
    ck.true(hydrated["image_bytes_match"], "the input's bytes fetched from the download URL")
    ck.true(hydrated["expected_is_reference"], "dataset.get resolved the expected output's media")
    ck.true(hydrated["expected_bytes_match"], "the expected output's bytes")
    ck.eq(hydrated["expected_label"], "pixel", "the rest of the expected output stays")
    item = api.get(f"/api/public/dataset-items/{encoded(created['id'])}")
    ck.eq(len(item["mediaReferences"]), 2, "read back through the public API")
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
    ck.eq(sorted(run["runs_after_delete"]),
          sorted([run["aggregated_run"], f"{run['experiment']['run_name']}-pinned"]),
          "the other runs stay after the delete")
    ck.eq((run["archived_run_item"] or {}).get("status"), 404, "an archived item takes no part in new runs")
    ck.eq((run["missing_run"] or {}).get("status"), 404, "an unknown run")
    ck.done()


def test_v5_experiment_spans_become_a_run(api, v5_run):
    """Python 5.x's run_experiment creates no run items through the API: the server makes
    them from the experiment's root spans."""
    ck = Check("python v5 experiment as a dataset run")
    experiment = v5_run["experiment_v5"]
    items = experiment["items"]
    ck.eq(sorted(i["output"] for i in items), ["Lyon", "Rome"], "task outputs")
    ck.eq(sorted(e for i in items for e in i["evaluations"]), [["exact", 0.0], ["exact", 1.0]], "evaluations")
    name = encoded(experiment["dataset_name"])
    runs = api.get(f"/api/public/datasets/{name}/runs")
    ck.eq([r["name"] for r in runs["data"]], [experiment["run_name"]], "one run, named as given")
    read = api.get(f"/api/public/datasets/{name}/runs/{encoded(experiment['run_name'])}")
    ck.eq(read["datasetId"], experiment["dataset_id"], "the run's dataset")
    ck.eq(read["description"], "first try", "run description")
    ck.eq(read["metadata"], {"model": "lookup"}, "run metadata")
    run_items = read["datasetRunItems"]
    ck.eq(sorted(i["datasetItemId"] for i in run_items), experiment["item_ids"], "one run item per item")
    ck.eq(sorted(i["traceId"] for i in run_items), sorted(i["trace_id"] for i in items), "linked traces")
    for item in run_items:
        trace = api.trace(item["traceId"])
        ck.true(item["observationId"] in [o["id"] for o in trace["observations"]],
                f"observation {item['observationId']} is in trace {item['traceId']}")
    listed = api.get("/api/public/dataset-run-items",
                     params={"datasetId": experiment["dataset_id"], "runName": experiment["run_name"]})
    ck.eq(len(listed["data"]), 2, "the run items listed")
    ck.done()


def test_js_sdk_run_clean(js_run):
    assert_clean_run(js_run)


def test_js_dataset_and_items(api, js_run):
    ck = Check("js datasets")
    run = js_run
    name = run["name"]
    created = run["created"]
    ck.eq(created["name"], name, "created name")
    ck.eq(created["description"], "capital cities", "description")
    ck.eq(created["metadata"], {"owner": "geo"}, "metadata")
    items = run["items"]
    ck.eq(items["italy"]["status"], "ACTIVE", "a new item is active")
    ck.eq(items["italy"]["input"], {"country": "Italy"}, "input")
    ck.eq(items["italy"]["expected_output"], "Rome", "expected output")
    ck.eq(items["italy"]["metadata"], {"difficulty": 1}, "item metadata")
    ck.eq(items["italy"]["dataset_id"], created["id"], "item dataset id")
    ck.eq(items["italy"]["dataset_name"], name, "item dataset name")
    ck.eq(items["france"]["id"], f"france-{run['run']}-js", "dataset.createItem keeps the given id")
    ck.eq(items["archived"]["status"], "ARCHIVED", "an upsert by id archives")
    ck.eq(items["archived"]["expected_output"], "Madrid", "the upsert keeps the expected output")
    dataset = run["dataset"]
    ck.eq(dataset["id"], created["id"], "dataset.get id")
    ck.eq(dataset["metadata"], {"owner": "geo"}, "dataset.get metadata")
    ck.eq(dataset["items"], sorted(items.values(), key=lambda i: i["id"]), "dataset.get read every item, one a page")
    ck.true(dataset["has_link"], "every item has its link function")
    read = api.get(f"/api/public/v2/datasets/{encoded(name)}")
    ck.eq(read["id"], created["id"], "read back by encoded name")
    ck.done()


def test_js_dataset_version(api, js_run):
    then = js_run["dataset_then"]
    ck = Check("js dataset version")
    ck.eq(then["dataset_version"], then["version"], "the dataset read at a version says which")
    by_id = {i["id"]: i for i in then["items"]}
    suffix = f"{js_run['run']}-js"
    ck.eq(sorted(by_id), sorted([js_run["items"]["italy"]["id"], f"france-{suffix}", f"spain-{suffix}",
                                 f"atlantis-{suffix}"]), "the items then: the deleted one still there")
    ck.eq(by_id.get(f"spain-{suffix}", {}).get("status"), "ACTIVE", "archived only later")
    ck.eq(by_id.get(f"spain-{suffix}", {}).get("expected_output"), "Madrid", "its content then")
    ck.eq(by_id.get(f"atlantis-{suffix}", {}).get("input"), {"country": "Atlantis"}, "the deleted item as it was")
    raw = api.get("/api/public/dataset-items", params={"datasetName": js_run["name"], "version": then["version"],
                                                       "limit": 1})
    ck.eq(raw["meta"]["totalItems"], 4, "the raw list at that version counts the same items")
    ck.done()


def test_js_experiment_run(api, js_run):
    ck = Check("js dataset run")
    run = js_run
    experiment = run["experiment"]
    ck.eq(experiment["run_name"], run["run_name"], "the given run name")
    results = experiment["items"]
    ck.eq(sorted(r["output"] for r in results), ["Lyon", "Rome"], "task outputs of the active items")
    ck.eq(sorted(e for r in results for e in r["evaluations"]), [["exact", 0], ["exact", 1]], "evaluations")
    ck.true(experiment["dataset_run_id"], "the run's id came back from the link")
    ck.eq({r["dataset_run_id"] for r in results}, {experiment["dataset_run_id"]}, "one run for every item")
    read = run["run_read"]
    ck.eq(read["id"], experiment["dataset_run_id"], "getRun id")
    ck.eq(read["name"], run["run_name"], "getRun name")
    ck.eq(read["description"], "first try", "run description")
    ck.eq(read["metadata"], {"model": "lookup"}, "run metadata")
    ck.eq(read["dataset_id"], run["created"]["id"], "run dataset id")
    ck.eq(read["dataset_name"], run["name"], "run dataset name")
    by_item = {r["item_id"]: r for r in results}
    ck.eq(sorted(i["dataset_item_id"] for i in read["items"]), sorted(by_item), "one run item per active item")
    for item in read["items"]:
        result = by_item.get(item["dataset_item_id"], {})
        ck.eq(item["trace_id"], result.get("trace_id"), f"run item {item['dataset_item_id']} links the task trace")
        ck.eq(item["run_id"], read["id"], "run item's run id")
        ck.eq(item["run_name"], run["run_name"], "run item's run name")
        trace = api.trace(item["trace_id"])
        ck.true(item["observation_id"] in [o["id"] for o in trace["observations"]],
                f"observation {item['observation_id']} is in trace {item['trace_id']}")
        ck.eq(trace["environment"], "sdk-experiment", "the SDK's experiment environment")
        task_span = next((o for o in trace["observations"] if o["id"] == item["observation_id"]), {})
        ck.eq((task_span.get("metadata") or {}).get("dataset_item_id"), item["dataset_item_id"], "task span metadata")
        scores = [(s["name"], s["value"]) for s in api.scores_v2(traceId=item["trace_id"])]
        ck.eq(scores, [("exact", 1.0 if result.get("output") == "Rome" else 0.0)], "the evaluator's score")
    ck.eq(run["runs"], {"total": 1, "names": [run["run_name"]]}, "getRuns")
    ck.eq(run["run_items_page"], {"total": 2, "pages": 2, "count": 1}, "datasetRunItems.list page")
    ck.done()


def test_js_errors(js_run):
    ck = Check("js dataset errors")
    ck.eq((js_run["missing_dataset"] or {}).get("status"), 404, "dataset.get of an unknown name")
    ck.eq((js_run["archived_link"] or {}).get("status"), 404, "an archived item takes no part in new runs")
    ck.eq((js_run["missing_run"] or {}).get("status"), 404, "an unknown run")
    ck.done()


def test_schema_validation(run):
    ck = Check(f"python {run['major']} dataset schemas")
    schemas = run["schemas"]
    ck.eq(schemas["dataset"]["input_schema"], {"type": "object", "required": ["country"],
                                              "properties": {"country": {"type": "string"}}},
          "the input schema is stored and returned")
    ck.eq(schemas["valid"], {"country": "Peru"}, "a valid item is stored")
    ck.eq((schemas["bad_input"] or {}).get("status"), 400, "an input against the schema")
    ck.true("input: does not match the dataset's inputSchema: /country" in (schemas["bad_input"] or {}).get("text", ""),
            "names the field and the violation")
    ck.eq((schemas["bad_expected"] or {}).get("status"), 400, "an expected output against the schema")
    ck.true("expectedOutput:" in (schemas["bad_expected"] or {}).get("text", ""), "names the field")
    ck.done()


def test_v4_experiments_api_and_dataset_version(api, v4_run):
    ck = Check("python v4 experiments API")
    run = v4_run
    experiments = run["experiments"]
    ck.eq([e["name"] for e in experiments], [run["experiment"]["run_name"]], "the run as an experiment")
    ck.eq(experiments[0]["item_count"], 2, "its run items")
    ck.eq(experiments[0]["dataset_id"], run["experiment"]["dataset_id"], "its dataset")
    ck.eq(experiments[0]["metadata"], {"model": "lookup"}, "its metadata")
    items = run["experiment_items"]
    ck.eq(sorted(i["output"] for i in items), ["Lyon", "Rome"], "outputs of the items")
    ck.eq(sorted(i["expected_output"] for i in items), ["Paris", "Rome"], "expected outputs")
    ck.true(all(i["version"] for i in items), "each item names the item version it ran on")
    ck.eq(sorted(s for i in items for s in i["scores"]), [["exact", 0.0], ["exact", 1.0]], "item scores")
    pinned = run["pinned_run"]
    read = api.get(f"/api/public/datasets/{encoded(pinned['dataset'])}/runs/{encoded(pinned['run'])}")
    ck.true(read["datasetRunItems"][0]["datasetVersion"], "a run item created with dataset_version records it")
    ck.done()


def test_v4_run_aggregates_after_an_evaluator(ui, v4_run):
    ck = Check("python v4 run aggregates")
    run = v4_run
    name = encoded(run["experiment"]["dataset_name"])
    aggregates = ui.get(f"/api/ui/projects/{PROJECT_A['id']}/datasets/{name}/runs/"
                        f"{encoded(run['aggregated_run'])}")
    ck.eq(aggregates.get("itemCount"), 2, "both items")
    exact = next((s for s in aggregates.get("scores", []) if s["name"] == "exact"), {})
    ck.eq(exact.get("count"), 2, "the evaluator's scores")
    ck.approx((exact.get("numeric") or {}).get("mean"), 0.5, "their mean")
    ck.true(aggregates.get("latency"), "a latency")
    ck.done()


def test_js_run_at_a_version_and_experiments_api(js_run):
    ck = Check("js experiments API")
    run = js_run
    suffix = f"{run['run']}-js"
    pinned = run["pinned"]
    ck.eq(pinned["item_ids"], sorted([run["items"]["italy"]["id"], f"france-{suffix}", f"spain-{suffix}"]),
          "the run ran the items active at the version, spain archived only later")
    by_name = {e["name"]: e for e in run["experiments"]}
    ck.eq(sorted(by_name), sorted([run["run_name"], pinned["run_name"]]), "both runs as experiments")
    ck.eq(by_name.get(pinned["run_name"], {}).get("item_count"), 3, "the pinned run's items")
    ck.eq(by_name.get(run["run_name"], {}).get("metadata"), {"model": "lookup"}, "run metadata")
    items = run["experiment_items"]
    ck.eq([i["trace_id"] for i in sorted(items, key=lambda i: i["trace_id"])], pinned["trace_ids"], "item traces")
    ck.true(all(i["version"] and i["version"] <= run["dataset_then"]["version"] for i in items),
            "each item ran on a version up to the requested one")
    spain = next((i for i in items if i["item_id"] == f"spain-{suffix}"), {})
    ck.eq(spain.get("output"), "Madrid", "the task's output")
    ck.eq(spain.get("scores"), [["exact", 1]], "the evaluator's score")
    ck.done()
