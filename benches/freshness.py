"""How soon a write shows: for each kind of write (a new measurement, a deployment moved to
another binary, a new binary), N writes one after the other through POST /api/v1/records; after
each acknowledgement, the time until the model's /metrics shows its effect and until the company
scorecard reads a snapshot at least that new. Prints p50 and p99 per kind. Picks its models from
the database (psql) and writes only to them.

usage: freshness.py BASE_URL TOKEN DATABASE_URL [N]
"""

import json
import random
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import datetime, timezone

BASE, TOKEN, DB = sys.argv[1], sys.argv[2], sys.argv[3]
N = int(sys.argv[4]) if len(sys.argv) > 4 else 50
DEADLINE = 60.0


def sql(query):
    out = subprocess.run(["psql", "-Atq", DB, "-F", "\t", "-c", query], check=True,
                         capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def get(path):
    with urllib.request.urlopen(BASE + path, timeout=30) as r:
        return json.load(r)


def post(lines):
    body = "\n".join(json.dumps(line) for line in lines).encode()
    req = urllib.request.Request(BASE + "/api/v1/records", data=body, method="POST", headers={
        "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-ndjson"})
    with urllib.request.urlopen(req, timeout=30) as r:
        r.read()


def ref(source, id_):
    return {"source": source, "id": id_}


def now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def metrics_path(source, id_):
    q = urllib.parse.quote
    return f"/api/v1/models/{q(source, safe='')}/{q(id_, safe='')}/metrics"


def wait(check):
    """Polls `check` until it returns a value; returns (seconds, value)."""
    started = time.monotonic()
    while time.monotonic() - started < DEADLINE:
        found = check()
        if found is not None:
            return time.monotonic() - started, found
        time.sleep(0.01)
    raise SystemExit(f"no effect within {DEADLINE}s")


def measure_one(write, shows):
    """Writes, then waits for the model page and the company scorecard."""
    post(write)
    acked = time.monotonic()
    _, snapshot = wait(shows)
    model_seconds = time.monotonic() - acked
    wait(lambda: True if get("/api/v1/scorecard")["snapshot"]["id"] >= snapshot else None)
    return model_seconds, time.monotonic() - acked


HELD = "r.valid_to = 9223372036854775807"


def kinds():
    # Models judged on a binary: a new robustness report, lower than any, must show.
    measured = sql(f"""
        SELECT m.source, m.external_id, b.source, b.external_id
        FROM model_results r JOIN assets m ON m.id = r.model_id JOIN assets b ON b.id = r.judged_binaries[1]
        WHERE {HELD} ORDER BY random() LIMIT {N}""")

    def measurement(row):
        ms, mi, bs, bi = row
        value = round(random.uniform(0.001, 0.009), 9)
        write = [{"type": "measurement", "asset": ref(bs, bi), "name": "robustness_score",
                  "value": value, "at": now()}]

        def shows():
            m = get(metrics_path(ms, mi))
            if any(r.get("value") is not None and abs(r["value"] - value) < 1e-12 for r in m["metrics"]):
                return m["snapshot"]["id"]
            return None
        return write, shows

    # Production deployments whose model has another binary: the deployment moves to it.
    moved = sql(f"""
        SELECT DISTINCT ON (m.id) m.source, m.external_id, d.source, d.external_id, o.source, o.external_id
        FROM model_results r
        JOIN assets m ON m.id = r.model_id
        JOIN edges bd ON bd.from_id = r.judged_binaries[1] AND bd.to_kind = 'deployment'
        JOIN assets d ON d.id = bd.to_id AND d.status = 'production'
        JOIN edges mr ON mr.from_id = m.id AND mr.from_kind = 'model_source'
        JOIN edges rb ON rb.from_id = mr.to_id AND rb.to_kind = 'model_binary'
        JOIN assets o ON o.id = rb.to_id AND o.id <> ALL(r.judged_binaries)
        WHERE {HELD} AND r.judged_on = 'production' AND cardinality(r.judged_binaries) = 1
        ORDER BY m.id, random() LIMIT {N}""")

    def deployment(row):
        ms, mi, ds, di, os_, oi = row
        write = [{"type": "edge", "from": ref(os_, oi), "to": ref(ds, di)}]

        def shows():
            m = get(metrics_path(ms, mi))
            if ref(os_, oi) in m["judged_binaries"]:
                return m["snapshot"]["id"]
            return None
        return write, shows

    # Models with nothing in production, judged on their newest binary: a newer one is judged.
    newest = sql(f"""
        SELECT m.source, m.external_id FROM model_results r JOIN assets m ON m.id = r.model_id
        WHERE {HELD} AND r.judged_on = 'newest_binary' ORDER BY random() LIMIT {N}""")
    serial = int(time.time() * 1000)

    def binary(row):
        nonlocal serial
        ms, mi = row
        serial += 1
        run, binary_id = f"bench-run-{serial}", f"bench-binary-{serial}"
        stamp = now()
        write = [
            {"type": "asset", "source": "bench", "id": run, "kind": "workflow_run", "name": run,
             "status": "succeeded", "started_at": stamp, "ended_at": stamp},
            {"type": "asset", "source": "bench", "id": binary_id, "kind": "model_binary", "name": binary_id},
            {"type": "edge", "from": ref(ms, mi), "to": ref("bench", run)},
            {"type": "edge", "from": ref("bench", run), "to": ref("bench", binary_id)},
        ]

        def shows():
            m = get(metrics_path(ms, mi))
            if ref("bench", binary_id) in m["judged_binaries"]:
                return m["snapshot"]["id"]
            return None
        return write, shows

    return [("a new measurement", measured, measurement), ("a deployment moved", moved, deployment),
            ("a new binary", newest, binary)]


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


for name, rows, make in kinds():
    if not rows:
        print(f"    {name}: no model to write to")
        continue
    model, company = [], []
    for row in rows:
        write, shows = make(row)
        m, c = measure_one(write, shows)
        model.append(m)
        company.append(c)
    print(f"    {name} ({len(rows)} writes): in the model's metrics p50 {percentile(model, 50):.2f}s "
          f"p99 {percentile(model, 99):.2f}s; in the company scorecard p50 {percentile(company, 50):.2f}s "
          f"p99 {percentile(company, 99):.2f}s")
