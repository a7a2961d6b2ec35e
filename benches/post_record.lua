-- wrk script: every request writes one new model source (a distinct external id per request), so
-- each is a real, durable insert with its history row.
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  token = os.getenv("MODELGOV_BENCH_TOKEN")
  run = os.getenv("MODELGOV_BENCH_RUN") or "0"
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"type":"asset","source":"bench","id":"r%s-t%d-%d","kind":"model_source","name":"bench model %d","tags":{"bench":"single"}}',
    run, tid, counter, counter)
  return wrk.format("POST", "/api/v1/records", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end

function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("requests %d, errors %d, %.0f records/s, p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
    summary.requests, errors, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
