-- wrk script for the HTTP ceiling (nginx serving a static file): plain GETs of the URL given, and
-- the same one-line JSON summary as portal.lua so both are read the same way.

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        '{"requests":%d,"duration_us":%d,"rps":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,' ..
        '"p999_ms":%.3f,"errors":%d,"non2xx":%d,"socket_errors":%d}\n',
        summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        latency:percentile(99.9) / 1000, e.connect + e.read + e.write + e.status + e.timeout,
        e.status, e.connect + e.read + e.write + e.timeout))
end
