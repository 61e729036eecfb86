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

-- Closed-loop pacing (manual runs): each connection waits $DELAY_MS after every
-- answer, so the rate is about conns * 1000 / (DELAY_MS + latency).
local pace = tonumber(os.getenv("DELAY_MS") or "")
if pace and pace > 0 then
  function delay()
    return pace
  end
end

-- Paced load at a fixed rate (for "p99 at half the maximum load"): with $RATE_RPS set,
-- delay() hands out send times 1000 / RATE_RPS ms apart, shared by all connections of
-- the (single) wrk thread, so the rate holds whatever the latency as long as a connection
-- is free for each send time; send times missed by more than a second are dropped, not
-- caught up in a burst. (wrk truncates a delay to whole ms; the schedule itself is exact.)
local rate = tonumber(os.getenv("RATE_RPS") or "")
if rate and rate > 0 then
  local ffi = require("ffi")
  ffi.cdef [[
    typedef struct { long tv_sec; long tv_nsec; } phigate_timespec;
    int clock_gettime(int clk_id, phigate_timespec* tp);
  ]]
  local ts = ffi.new("phigate_timespec")
  local function now_ms()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
  end
  local interval = 1000 / rate
  local next_send = nil
  function delay()
    local t = now_ms()
    if next_send == nil or next_send < t - 1000 then next_send = t end
    local send = math.max(next_send, t)
    next_send = send + interval
    return send - t
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
