-- wrk script: POSTs OpenLineage RunEvents (a START then a COMPLETE for each new run, one input
-- dataset among 50, one new output model) to /api/v1/lineage; prints one summary line.
-- MODELGOV_BENCH_TOKEN: an editor token; MODELGOV_BENCH_RUN: keeps run ids apart between runs.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  token = os.getenv("MODELGOV_BENCH_TOKEN")
  run = os.getenv("MODELGOV_BENCH_RUN") or "0"
  n = 0
end

function request()
  n = n + 1
  local i = math.floor((n + 1) / 2)
  local id = string.format("%s-%d-%d", run, tid, i)
  local kind = (n % 2 == 1) and "START" or "COMPLETE"
  local minute = (n % 2 == 1) and "00" or "30"
  local body = string.format(
    '{"eventType":"%s","eventTime":"2026-11-01T12:%s:00Z","producer":"https://example.com/bench",' ..
    '"schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",' ..
    '"run":{"runId":"%s","facets":{}},"job":{"namespace":"bench","name":"train-%d","facets":{}},' ..
    '"inputs":[{"namespace":"s3://bench","name":"features-%d","facets":{"datasetType":{"datasetType":"TABLE"}}}],' ..
    '"outputs":[{"namespace":"mlflow://bench","name":"model-%s","facets":{}}]}',
    kind, minute, id, i % 100, i % 50, id)
  return wrk.format("POST", "/api/v1/lineage",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end

function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("events %d, errors %d, %.0f events/s, p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
    summary.requests, errors, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
