-- wrk's side of the benchmark: optional POST body / gzip from the environment, and a JSON summary
-- line (same keys as the Python clients) printed when the run is done.
local body_size = tonumber(os.getenv("WRK_BODY_SIZE") or "0")
if body_size > 0 then
  wrk.method = "POST"
  wrk.body = string.rep("x", body_size)
  wrk.headers["Content-Type"] = "application/octet-stream"
end
if os.getenv("WRK_GZIP") == "1" then
  wrk.headers["Accept-Encoding"] = "gzip"
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.6f, "bytes": %d, "p50_ms": %.4f, "p99_ms": %.4f, ' ..
    '"errors": %d, "non2xx": %d}\n',
    summary.requests, summary.duration / 1e6, summary.bytes,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
