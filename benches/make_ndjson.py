"""Writes NDJSON bodies of realistic lineage for the bulk benchmark: per model source, runs,
binaries and deployments with their edges. Usage: make_ndjson.py OUT_DIR FILES RECORDS_PER_FILE RUN"""
import json
import os
import sys

out, files, per_file, run = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
os.makedirs(out, exist_ok=True)
for f in range(files):
    lines = []
    m = 0
    while len(lines) < per_file:
        src = {"source": "bulk", "id": f"r{run}-f{f}-m{m}"}
        lines.append({"type": "asset", **src, "kind": "model_source", "name": f"bulk model {f}.{m}",
                      "owners": ["bench@example.com"], "tags": {"bench": "bulk"}})
        for k in range(4):
            r = {"source": "bulk", "id": f"r{run}-f{f}-m{m}-run{k}"}
            b = {"source": "bulk", "id": f"r{run}-f{f}-m{m}/{k}"}
            lines.append({"type": "asset", **r, "kind": "workflow_run", "name": f"run {k}", "status": "succeeded",
                          "started_at": "2026-10-01T02:00:00Z", "ended_at": "2026-10-01T03:00:00Z"})
            lines.append({"type": "asset", **b, "kind": "model_binary", "name": f"v{k}"})
            lines.append({"type": "edge", "from": src, "to": r})
            lines.append({"type": "edge", "from": r, "to": b})
            lines.append({"type": "measurement", "asset": b, "name": "quality_delta", "value": 0.01 * k,
                          "at": "2026-10-02T00:00:00Z"})
        d = {"source": "bulk", "id": f"r{run}-f{f}-m{m}-prod"}
        lines.append({"type": "asset", **d, "kind": "deployment", "name": "prod", "status": "production"})
        lines.append({"type": "edge", "from": {"source": "bulk", "id": f"r{run}-f{f}-m{m}/3"}, "to": d})
        m += 1
    with open(os.path.join(out, f"{f:04}.ndjson"), "w") as body:
        body.write("\n".join(json.dumps(line) for line in lines[:per_file]) + "\n")
