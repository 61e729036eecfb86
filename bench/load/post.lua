-- wrk script: POST $BODY_FILE with the headers in $HDR_FILE ("Name: value" lines) and
-- print one machine-readable RESULT line (req/s, latency percentiles in µs, errors).
local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

wrk.method = "POST"
wrk.body = slurp(os.getenv("BODY_FILE"))
wrk.headers["Content-Type"] = "application/json"
local hf = os.getenv("HDR_FILE")
if hf and hf ~= "" then
  for line in io.lines(hf) do
    local k, v = line:match("^([^:]+):%s*(.*)$")
    if k then wrk.headers[k] = v end
  end
end

-- Paced load (for "p99 at half the maximum load"): each connection waits
-- $DELAY_MS after every answer, so the rate is about conns * 1000 / (DELAY_MS + latency).
local pace = tonumber(os.getenv("DELAY_MS") or "")
if pace and pace > 0 then
  function delay()
    return pace
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT label=%s requests=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d mean_us=%.0f " ..
    "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    os.getenv("LABEL") or "-", summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
