"""The real openlineage-python client (HTTP transport) against a running modelgov.

Emits RunEvents the way any OpenLineage integration does, then reads the graph back through the
native API and checks assets, kinds, edges and run states; replays the stream and shuffles it,
and sends invalid events. scripts/test runs it with:

    OPENLINEAGE_URL=http://127.0.0.1:<port> OPENLINEAGE_API_KEY=<editor token> \
        python tests/interop/openlineage_client.py

Exits non-zero, naming the check, on the first failure.
"""

import json
import os
import random
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import dataset_type_dataset, job_type_job
from openlineage.client.uuid import generate_new_uuid

BASE = os.environ["OPENLINEAGE_URL"].rstrip("/")
TOKEN = os.environ["OPENLINEAGE_API_KEY"]
client = OpenLineageClient()
tag = uuid.uuid4().hex[:8]
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def get(path):
    request = urllib.request.Request(BASE + path, headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def post_raw(body):
    request = urllib.request.Request(
        BASE + "/api/v1/lineage",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def asset_path(source, external_id):
    return f"/api/v1/assets/{urllib.parse.quote(source, safe='')}/{urllib.parse.quote(external_id, safe='')}"


def graph_of(run_id):
    """The run's neighbourhood as plain data: nodes (key, kind, status) and edges."""
    lineage = get(asset_path("openlineage", f"run:{run_id}") + "/lineage?direction=both&depth=1")
    nodes = sorted((n["ref"]["id"], n["kind"], n.get("status")) for n in lineage["nodes"])
    edges = sorted((e["from"]["id"], e["to"]["id"]) for e in lineage["edges"])
    return nodes, edges


def run_asset(run_id):
    lineage = get(asset_path("openlineage", f"run:{run_id}") + "/lineage?direction=down&depth=1")
    return next(n for n in lineage["nodes"] if n["ref"]["id"] == f"run:{run_id}")


def check(condition, what):
    if not condition:
        raise SystemExit(f"FAILED: {what}")
    print(f"ok: {what}")


job = Job(
    namespace=f"ci-{tag}",
    name="train_ranker",
    facets={"jobType": job_type_job.JobTypeJobFacet(processingType="BATCH", integration="CUSTOM", jobType="JOB")},
)
features = InputDataset(
    namespace="s3://warehouse",
    name=f"features/clicks-{tag}",
    facets={"datasetType": dataset_type_dataset.DatasetTypeDatasetFacet(datasetType="TABLE")},
)


def model(version):
    return OutputDataset(namespace="mlflow://registry", name=f"ranker-{tag}/{version}", facets={})


def event(state, run_id, minutes, version=1):
    return RunEvent(
        eventType=state,
        eventTime=(T0 + timedelta(minutes=minutes)).isoformat(),
        run=Run(runId=run_id),
        job=job,
        inputs=[features],
        outputs=[model(version)],
    )


# 1. A training run, START then COMPLETE, through the real client.
first = str(generate_new_uuid())
client.emit(event(RunState.START, first, 0))
client.emit(event(RunState.COMPLETE, first, 30))
nodes, edges = graph_of(first)
run_key = f"run:{first}"
job_key = f"job:ci-{tag}/train_ranker"
table_key = f"s3://warehouse/features/clicks-{tag}"
binary_key = f"mlflow://registry/ranker-{tag}/1"
check((job_key, "model_source", None) in nodes, "the job is a model source (the training pipeline)")
check((table_key, "dataset", None) in nodes, "the input table is a dataset")
check((binary_key, "model_binary", None) in nodes, "the output is a model binary")
check((run_key, "workflow_run", "succeeded") in nodes, "the run is a workflow run that succeeded")
check(edges == sorted([(job_key, run_key), (table_key, run_key), (run_key, binary_key)]), "the edges run job -> run, input -> run, run -> output")

# 2. The same events again change nothing.
before = graph_of(first)
client.emit(event(RunState.START, first, 0))
client.emit(event(RunState.COMPLETE, first, 30))
check(graph_of(first) == before, "replaying the events leaves the same graph")

# 3. Out of order: COMPLETE before START, and a late RUNNING, end in the same state.
second = str(generate_new_uuid())
client.emit(event(RunState.COMPLETE, second, 90, version=2))
client.emit(event(RunState.RUNNING, second, 70, version=2))
client.emit(event(RunState.START, second, 60, version=2))
state = run_asset(second)
check(state.get("status") == "succeeded", "a run whose COMPLETE came first still ends succeeded")

# 4. A shuffled stream of several runs arrives at the graph the ordered stream gives.
runs = []
for i in range(4):
    outcome = RunState.COMPLETE if i % 2 == 0 else RunState.FAIL
    run_id = str(generate_new_uuid())
    runs.append((run_id, "succeeded" if outcome == RunState.COMPLETE else "failed"))
    stream = [event(s, run_id, t, version=10 + i) for s, t in [(RunState.START, 200 + i), (RunState.RUNNING, 210 + i), (outcome, 220 + i)]]
    random.Random(i).shuffle(stream)
    for e in stream + stream:
        client.emit(e)
for i, (run_id, status) in enumerate(runs):
    key, binary = f"run:{run_id}", f"mlflow://registry/ranker-{tag}/{10 + i}"
    expected = (
        sorted([(job_key, "model_source", None), (key, "workflow_run", status), (table_key, "dataset", None), (binary, "model_binary", None)]),
        sorted([(job_key, key), (table_key, key), (key, binary)]),
    )
    nodes, edges = graph_of(run_id)
    # The job and the table are shared with the other runs: keep this run's neighbourhood.
    mine = (sorted(n for n in nodes if n[0] in {job_key, key, table_key, binary}), sorted(e for e in edges if key in e))
    check(mine == expected, f"shuffled and doubled, run {i} arrives at the graph the ordered stream gives ({status})")

# 5. Invalid events get 400 with the reason, and change nothing.
raw = {
    "eventType": "START",
    "eventTime": T0.isoformat(),
    "producer": "https://example.com/ci",
    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    "run": {"runId": str(generate_new_uuid())},
    "job": {"namespace": f"ci-{tag}", "name": "bad"},
}
for broken, field in [
    ({**raw, "eventTime": "yesterday"}, "eventTime"),
    ({**raw, "eventType": "FINISHED"}, "eventType"),
    ({k: v for k, v in raw.items() if k != "run"}, "RunEvents"),
    ({**raw, "job": {"namespace": "", "name": "x"}}, "job.namespace"),
]:
    status, answer = post_raw(broken)
    check(status == 400 and field in answer.get("error", ""), f"an event with a bad {field} is refused with 400 naming it")
status, _ = post_raw(raw)
check(status == 201, "the same event, valid, is taken with 201")

# 6. A dataset type without a mapping waits in quarantine; the run is still written.
odd = str(generate_new_uuid())
status, answer = post_raw({**raw, "run": {"runId": odd}, "inputs": [{"namespace": "hdfs://x", "name": f"odd-{tag}", "facets": {"datasetType": {"datasetType": "GRAPH"}}}]})
statuses = sorted(r["status"] for r in answer["results"])
check(status == 201 and "quarantined" in statuses, "an unmapped dataset type is quarantined, not dropped")
print("openlineage-python interop: all checks passed")
