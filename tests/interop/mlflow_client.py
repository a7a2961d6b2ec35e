"""The real MlflowClient (mlflow-skinny) against a running modelgov's MLflow-compatible API.

Registers a model and versions, moves them through stages, sets tags and aliases, searches,
hits the errors, then reads the graph back through the native API. scripts/test runs it with:

    MLFLOW_TRACKING_URI=http://127.0.0.1:<port> MLFLOW_TRACKING_TOKEN=<editor token> \
        python tests/interop/mlflow_client.py

Exits non-zero, naming the check, on the first failure.
"""

import json
import os
import urllib.parse
import urllib.request
import uuid
import warnings

# Stages are deprecated in MLflow 2.9+, but its client still sends them and teams still use them.
warnings.filterwarnings("ignore", category=FutureWarning)
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")

from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

BASE = os.environ["MLFLOW_TRACKING_URI"].rstrip("/")
client = MlflowClient()
tag = uuid.uuid4().hex[:8]
name = f"ranker-{tag}"


def check(condition, what):
    if not condition:
        raise SystemExit(f"FAILED: {what}")
    print(f"ok: {what}")


def error_code(call):
    try:
        call()
    except MlflowException as error:
        return error.error_code
    return None


def graph(path):
    with urllib.request.urlopen(BASE + path) as response:
        return json.load(response)


def quoted(external_id):
    return urllib.parse.quote(external_id, safe="")


# Registered model and versions.
created = client.create_registered_model(name, tags={"team": "ads"}, description="ranks the feed")
check(created.name == name and created.tags == {"team": "ads"}, "create_registered_model answers the model")
check(error_code(lambda: client.create_registered_model(name)) == "RESOURCE_ALREADY_EXISTS", "a second create is RESOURCE_ALREADY_EXISTS")
check(error_code(lambda: client.get_registered_model(f"nope-{tag}")) == "RESOURCE_DOES_NOT_EXIST", "an unknown model is RESOURCE_DOES_NOT_EXIST")
versions = [client.create_model_version(name, source=f"s3://models/{name}/{i}", run_id=f"run-{tag}-{i}") for i in (1, 2, 3)]
check([v.version for v in versions] == ["1", "2", "3"], "versions are numbered 1, 2, 3")
check(all(v.status == "READY" for v in versions), "versions are READY at once")
client.update_registered_model(name, description="ranks the home feed")
client.update_model_version(name, "1", description="first cut")
check(client.get_registered_model(name).description == "ranks the home feed", "update_registered_model")
check(client.get_model_version(name, "1").description == "first cut", "update_model_version")
check(client.get_model_version_download_uri(name, "2") == f"s3://models/{name}/2", "get_model_version_download_uri is the version's source")
found = client.search_model_versions(f"source_path = 's3://models/{name}/3'")
check([v.version for v in found] == ["3"], "search_model_versions by source_path")

# Stages.
client.transition_model_version_stage(name, "1", "Staging")
client.transition_model_version_stage(name, "2", "production")
latest = client.get_latest_versions(name, stages=["Production"])
check([v.version for v in latest] == ["2"], "get_latest_versions(Production) is version 2 (stage names in any case)")
client.transition_model_version_stage(name, "3", "Production", archive_existing_versions=True)
check(client.get_model_version(name, "2").current_stage == "Archived", "archive_existing_versions archives version 2")
check(error_code(lambda: client.transition_model_version_stage(name, "3", "Shipped")) == "INVALID_PARAMETER_VALUE", "an unknown stage is INVALID_PARAMETER_VALUE")

# Tags and aliases.
client.set_registered_model_tag(name, "owner", "ranking-team")
client.delete_registered_model_tag(name, "team")
check(client.get_registered_model(name).tags == {"owner": "ranking-team"}, "registered model tags set and deleted")
client.set_model_version_tag(name, "3", "validated", "yes")
check(client.get_model_version(name, "3").tags == {"validated": "yes"}, "model version tags")
client.set_registered_model_alias(name, "champion", "3")
check(client.get_model_version_by_alias(name, "champion").version == "3", "get_model_version_by_alias")
check(client.get_registered_model(name).aliases == {"champion": "3"}, "aliases on the registered model")
client.set_registered_model_alias(name, "nightly", "2")
client.set_registered_model_alias(name, "nightly", "3")


def deployment(external_id):
    found = graph(f"/api/v1/assets/mlflow/{quoted(external_id)}/lineage?direction=up&depth=1")
    root = next(n for n in found["nodes"] if n["ref"]["id"] == external_id)
    serves = [e["from"]["id"] for e in found["edges"] if e["to"]["id"] == external_id]
    return root["kind"], root.get("status"), serves


check(deployment(f"{name}@alias:champion") == ("deployment", "production", [f"{name}/3"]), "an alias is a deployment: champion serves version 3 in production")
check(deployment(f"{name}@alias:nightly") == ("deployment", "development", [f"{name}/3"]), "a moved alias moves its deployment to the new version")
client.delete_registered_model_alias(name, "champion")
check(error_code(lambda: client.get_model_version_by_alias(name, "champion")) == "INVALID_PARAMETER_VALUE", "a deleted alias is gone")
check(deployment(f"{name}@alias:champion")[1] == "retired", "a deleted alias's deployment is retired")

# Search.
found = client.search_registered_models(filter_string=f"name LIKE 'ranker-{tag}%'")
check([m.name for m in found] == [name], "search_registered_models by name prefix")
check(len(client.search_model_versions(f"name='{name}'")) == 3, "search_model_versions by name")

# The graph: a model source, the runs that produced the binaries, deployments per stage.
lineage = graph(f"/api/v1/assets/mlflow/{quoted(name)}/lineage?direction=down&depth=3")
nodes = {n["ref"]["id"]: (n["kind"], n.get("status")) for n in lineage["nodes"]}
edges = {(e["from"]["id"], e["to"]["id"]) for e in lineage["edges"]}
check(nodes[name] == ("model_source", None), "the registered model is a model source")
check(all(nodes[f"{name}/{i}"] == ("model_binary", None) for i in (1, 2, 3)), "its versions are model binaries")
check((f"run:run-{tag}-3", f"{name}/3") in edges and (name, f"run:run-{tag}-3") in edges, "each version hangs off the run that produced it")
check(nodes[f"{name}@Production"] == ("deployment", "production") and (f"{name}/3", f"{name}@Production") in edges, "Production is a deployment serving version 3")
check(nodes[f"{name}@Staging"] == ("deployment", "staging") and (f"{name}/1", f"{name}@Staging") in edges, "Staging is a deployment serving version 1")

# Deleting.
client.delete_model_version(name, "1")
lineage = graph(f"/api/v1/assets/mlflow/{quoted(name)}/lineage?direction=down&depth=3")
staging = next(n for n in lineage["nodes"] if n["ref"]["id"] == f"{name}@Staging")
check(staging.get("status") == "retired", "with nothing left in Staging its deployment is retired")
client.delete_model_version(name, "3")
again = client.create_model_version(name, source=f"s3://models/{name}/4", run_id=f"run-{tag}-4")
check(again.version == "4", "a deleted newest version's number is not given again")
client.delete_registered_model(name)
check(error_code(lambda: client.get_registered_model(name)) == "RESOURCE_DOES_NOT_EXIST", "delete_registered_model")
lineage = graph(f"/api/v1/assets/mlflow/{quoted(name)}/lineage?direction=down&depth=3")
production = next(n for n in lineage["nodes"] if n["ref"]["id"] == f"{name}@Production")
check(production.get("status") == "retired", "a deleted model's deployments are retired; the graph keeps its history")
check(deployment(f"{name}@alias:nightly")[1] == "retired", "so are its alias deployments")
print("mlflow-skinny interop: all checks passed")
