-- wrk script for the portal: each request takes a random bench patient's token (from the file in
-- BENCH_TOKENS, written by tokens.py) and asks for that patient's own data: 80 % one study's
-- detail, 15 % the list, 5 % a released study (its report); with BENCH_MIX=detail, only study
-- details; with BENCH_MIX=list or fhir, a patient with a released report asks for their list, or
-- for their DiagnosticReports through the FHIR API (the same patients both ways); with
-- BENCH_MIX=warm, every patient's list and every study once, in order, the threads
-- taking turns (then again from the start), so the pages the run will ask for are kept by the
-- server before the figures (run.sh's warm-up). Any status >= 400 is an error to wrk.
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
local list_only = os.getenv("BENCH_MIX") == "list"
local fhir_only = os.getenv("BENCH_MIX") == "fhir"
local warm = os.getenv("BENCH_MIX") == "warm"
local warm_pages = nil
local warm_next = 0
local warm_stride = tonumber(os.getenv("BENCH_WRK_THREADS") or "2")

local function warm_request()
    if not warm_pages then
        warm_pages = {}
        for _, p in ipairs(patients) do
            warm_pages[#warm_pages + 1] = {auth = p.auth, path = "/api/v1/patient/studies"}
            for _, id in ipairs(p.studies) do
                warm_pages[#warm_pages + 1] = {auth = p.auth, path = detail_prefix .. id}
            end
        end
        warm_next = (thread_id or 1) - 1
    end
    local page = warm_pages[warm_next % #warm_pages + 1]
    warm_next = warm_next + warm_stride
    return wrk.format("GET", page.path, {["Authorization"] = page.auth})
end

function request()
    if warm then
        return warm_request()
    end
    if list_only or fhir_only then
        local s = released[math.random(#released)]
        local path = fhir_only and "/fhir/R4/DiagnosticReport" or "/api/v1/patient/studies"
        return wrk.format("GET", path, {["Authorization"] = s.auth})
    end
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
