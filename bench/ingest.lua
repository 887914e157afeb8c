-- wrk script for bench/ingest.py: POSTs one ~1 KB alert per request to /api/v2/alerts, in
-- Alertmanager's own API format, so the very same bodies go to Alertmanager and to Tocsin.
-- Arguments (after `--`): MODE (unique | dedup), RUN (a nonce so runs never share keys), KEY.
-- unique: every request carries a new `id` label (a new alert); dedup: every request is the
-- same alert (a dedup hit after the first).
local mode, run, key = "unique", "r", ""
local counter = 0
-- `tid` is a global on purpose: setup() sets it in each thread's own Lua state.
tid = 0
local threads = {}
local padding = string.rep("x", 640)

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  mode = args[1] or mode
  run = args[2] or run
  key = args[3] or key
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
end

function request()
  counter = counter + 1
  local id = "fixed"
  if mode == "unique" then id = string.format("%s-%d-%d", run, tid, counter) end
  local body = string.format(
    '[{"labels":{"alertname":"BenchHighLatency","service":"checkout-api","instance":"web-%d:9100","severity":"critical","id":"%s"},' ..
    '"annotations":{"summary":"p99 latency above 2s on web-%d","description":"%s"},' ..
    '"generatorURL":"http://prometheus.example:9090/graph?g0.expr=histogram_quantile"}]',
    tid, id, tid, padding)
  return wrk.format(nil, "/api/v2/alerts", nil, body)
end

function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"errors":%d,"non2xx":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, errors, summary.errors.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
