-- wrk script for the portal: each request takes a random bench patient's token (from the file in
-- BENCH_TOKENS, written by tokens.py) and asks for that patient's own data: 80 % one study's
-- detail, 15 % the list, 5 % a released study (its report); with BENCH_MIX=detail, only study
-- details. Any status >= 400 is an error to wrk.
-- done() prints one JSON line with the figures run.sh collects.

local thread_counter = 0

function setup(thread)
    thread_counter = thread_counter + 1
    thread:set("thread_id", thread_counter)
end

local patients = {}
local released = {}

local function split(s, sep)
    local out = {}
    for part in string.gmatch(s, "[^" .. sep .. "]+") do
        out[#out + 1] = part
    end
    return out
end

function init(args)
    local path = os.getenv("BENCH_TOKENS")
    local f = assert(io.open(path, "r"), "cannot open BENCH_TOKENS " .. tostring(path))
    for line in f:lines() do
        local token, studies, rel = line:match("^([^\t]+)\t([^\t]*)\t?([^\t]*)$")
        if token then
            local p = {auth = "Bearer " .. token, studies = split(studies, ",")}
            patients[#patients + 1] = p
            for _, id in ipairs(split(rel or "", ",")) do
                released[#released + 1] = {auth = p.auth, id = id}
            end
        end
    end
    f:close()
    assert(#patients > 0, "no patients in " .. path)
    math.randomseed(os.time() * 100 + (thread_id or 0))
end

local detail_prefix = "/api/v1/patient/studies/"
local detail_only = os.getenv("BENCH_MIX") == "detail"

function request()
    local r = detail_only and 100 or math.random(100)
    if r <= 5 and #released > 0 then
        local s = released[math.random(#released)]
        return wrk.format("GET", detail_prefix .. s.id, {["Authorization"] = s.auth})
    end
    local p = patients[math.random(#patients)]
    if r <= 20 then
        return wrk.format("GET", "/api/v1/patient/studies", {["Authorization"] = p.auth})
    end
    local id = p.studies[math.random(#p.studies)]
    return wrk.format("GET", detail_prefix .. id, {["Authorization"] = p.auth})
end

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
