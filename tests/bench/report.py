#!/usr/bin/env python3
"""Turns the raw measurements of one `make bench` (one JSON object a line, each tagged with its
round and name) into results.json and the printed table: the median of every figure over the
rounds, ratios computed within each round against the ceilings measured in that round (then their
median), and the targets of issue 8 with pass/fail; the ingest of issue 13: HL7 v2 over MLLP
against the JSON API in the same round, and the mixed load's p99 with HL7 ingest beside it; the
FHIR report search of issue 14 against the JSON list; the notifications of issue 15: the time
until every patient's email of NOTIFY_RELEASES releases made at once is accepted by the SMTP
server, and the mixed load's p99 meanwhile against the same round's quiet mixed load; and for
issue 19 the cold detail (a server that keeps no page) against the detail statement's pgbench tps,
and the results-go-out burst: BENCH_BURST releases by one sweep, then their patients' pages.
Usage: report.py RAW_JSONL CONFIG_JSON RESULTS_JSON"""
import json
import statistics
import sys


def median(values):
    # Only numbers: a record may carry other fields (the burst's error_kinds, a dict).
    values = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return statistics.median(values) if values else None


def combined(http, db):
    return 1.0 / (1.0 / http + 1.0 / db) if http and db else None


def per_round(raw):
    rounds = {}
    for rec in raw:
        rounds.setdefault(rec["round"], {})[rec["name"]] = rec
    return [rounds[k] for k in sorted(rounds)]


def sql_ceiling(r, size):
    """The database ceiling for the SQL the detail run actually sent: a kept page costs the
    page-stamp read (pgbench db_stamp_*), a page built anew the detail statement (db_*), and a kept
    page found out of date both; weighted by the run's own counts, harmonically (time per request
    adds up)."""
    run = r.get("portal_%s_detail" % size, {})
    full, stamp = r.get("db_" + size, {}).get("tps"), r.get("db_stamp_" + size, {}).get("tps")
    hit, stale, miss = (run.get("page_" + k) for k in ("hit", "stale", "miss"))
    if not full or not stamp or hit is None or hit + stale + miss == 0:
        return None
    n = float(hit + stale + miss)
    return n / ((hit + stale) / stamp + (stale + miss) / full)


def derive(r):
    """The figures of one round, ratios against that round's own ceilings."""
    g = lambda name, key: r.get(name, {}).get(key)
    out = {}
    http = g("http_ceiling", "rps")
    for size in ("big", "small"):
        db = g("db_" + size, "tps")
        c = combined(http, db)
        out["combined_ceiling_" + size] = c
        for mix in ("detail", "mixed"):
            rps = g("portal_%s_%s" % (size, mix), "rps")
            out["ratio_%s_%s" % (mix, size)] = rps / c if rps and c else None
        out["page_hit_share_" + size] = kept_share(r.get("portal_%s_detail" % size, {}))
        out["db_sql_ceiling_" + size] = sql_ceiling(r, size)
        cs = combined(http, out["db_sql_ceiling_" + size])
        out["combined_sql_ceiling_" + size] = cs
        rps = g("portal_%s_detail" % size, "rps")
        out["ratio_detail_sql_" + size] = rps / cs if rps and cs else None
    idle = r.get("idle", {})
    if "rss_after_kb" in idle:
        out["idle_rss_cost_mb"] = (idle["rss_after_kb"] - idle["rss_before_kb"]) / 1024.0
    p_with, p_without = g("portal_big_mixed_idle", "p99_ms"), g("portal_big_mixed", "p99_ms")
    out["idle_p99_factor"] = p_with / p_without if p_with and p_without else None
    for mix in ("detail", "mixed"):
        big, small = g("portal_big_%s" % mix, "p99_ms"), g("portal_small_%s" % mix, "p99_ms")
        out["p99_growth_%s" % mix] = big / small if big and small else None
    out.update(derive_ingest(r))
    fhir, lst = g("portal_big_fhir", "rps"), g("portal_big_list", "rps")
    out["fhir_list_ratio"] = fhir / lst if fhir and lst else None
    fhir, lst = g("portal_big_fhir", "p99_ms"), g("portal_big_list", "p99_ms")
    out["fhir_list_p99_factor"] = fhir / lst if fhir and lst else None
    with_argon, without = g("portal_big_mixed_argon", "p99_ms"), g("portal_big_mixed_noargon", "p99_ms")
    out["argon_p99_factor"] = with_argon / without if with_argon and without else None
    portal, peer = g("portal_big_detail", "rps"), g("peer_big_detail", "rps")
    out["peer_detail_ratio"] = portal / peer if portal and peer else None
    portal, peer = g("portal_big_detail", "p99_ms"), g("peer_big_detail", "p99_ms")
    out["peer_p99_factor"] = portal / peer if portal and peer else None
    cold, db = g("portal_big_cold", "rps"), g("db_big", "tps")
    out["cold_detail_ratio"] = cold / db if cold and db else None
    burst, mix = g("burst", "p99_ms"), g("portal_big_mixed_burst", "p99_ms")
    out["burst_mix_p99_factor"] = burst / mix if burst and mix else None
    return out


def ingest_connections(names):
    """The connection counts of the ingest runs (named ingest_hl7_N, ingest_json_N)."""
    return sorted({int(n.rsplit("_", 1)[1]) for n in names
                   if n.startswith(("ingest_hl7_", "ingest_json_")) and n.rsplit("_", 1)[1].isdigit()})


def derive_ingest(r):
    """HL7 against JSON ingest at each connection count, and what HL7 ingest beside the mixed load
    (and, for comparison, JSON ingest) did to its p99 and throughput, all within the round."""
    g = lambda name, key: r.get(name, {}).get(key)
    q = lambda a, b: a / b if a and b else None
    out = {}
    counts = ingest_connections(r)
    for n in counts:
        out["ingest_hl7_json_ratio_%d" % n] = q(g("ingest_hl7_%d" % n, "rps"),
                                                g("ingest_json_%d" % n, "rps"))
    if len(counts) > 1:
        one, many = counts[0], counts[-1]
        for proto in ("hl7", "json"):
            out["ingest_%s_scaling" % proto] = q(g("ingest_%s_%d" % (proto, many), "rps"),
                                                 g("ingest_%s_%d" % (proto, one), "rps"))
    for proto in ("hl7", "json"):
        if "portal_big_mixed_" + proto in r:
            out["page_p99_factor_" + proto] = q(g("portal_big_mixed_" + proto, "p99_ms"),
                                                g("portal_big_mixed_quiet", "p99_ms"))
            out["page_rps_factor_" + proto] = q(g("portal_big_mixed_" + proto, "rps"),
                                                g("portal_big_mixed_quiet", "rps"))
    return out


def derive_notify(r):
    """The notification run of one round: time to every email accepted, messages per second, and
    the p99 of the mixed load while they went out (the worst and the median window) against the
    round's quiet mixed load."""
    n = r.get("notify")
    if not n:
        return {}
    out = {"notify_all_accepted_s": n.get("all_accepted_s"), "notify_released": n.get("released"),
           "notify_sent": n.get("sent"), "notify_cancelled_read": n.get("cancelled_read"),
           "notify_pending": n.get("pending")}
    if n.get("all_accepted_s"):
        out["notify_messages_per_s"] = n["accepted"] / n["all_accepted_s"]
    windows = [v.get("p99_ms") for k, v in r.items() if k.startswith("portal_big_mixed_notify_")]
    windows = [w for w in windows if w is not None]
    quiet = r.get("portal_big_mixed_quiet", {}).get("p99_ms")
    if windows:
        out["notify_p99_max_ms"] = max(windows)
        out["notify_p99_median_ms"] = statistics.median(windows)
        if quiet:
            out["notify_p99_factor_max"] = max(windows) / quiet
            out["notify_p99_factor_median"] = statistics.median(windows) / quiet
    out["notify_errors"] = sum(v.get("errors", 0) for k, v in r.items()
                               if k.startswith("portal_big_mixed_notify_"))
    return out


def print_notify(config, dmed):
    if dmed.get("notify_all_accepted_s") is None:
        return
    print()
    print("notifications: %s releases at once, %s emails sent (%s not sent: the page load read the "
          "result first; %s still waiting), every one accepted by the SMTP server after %s s "
          "(%s messages/s); mixed load meanwhile p99 %s ms median window, %s ms worst (x%s, x%s "
          "the quiet mixed load), %s errors" % (
              fmt(dmed.get("notify_released")), fmt(dmed.get("notify_sent")),
              fmt(dmed.get("notify_cancelled_read")), fmt(dmed.get("notify_pending")),
              fmt(dmed.get("notify_all_accepted_s"), "%.1f"),
              fmt(dmed.get("notify_messages_per_s")), fmt(dmed.get("notify_p99_median_ms"), "%.2f"),
              fmt(dmed.get("notify_p99_max_ms"), "%.2f"), fmt(dmed.get("notify_p99_factor_median"), "%.2f"),
              fmt(dmed.get("notify_p99_factor_max"), "%.2f"), fmt(dmed.get("notify_errors"))))


def main():
    raw_file, config_file, results_file = sys.argv[1:]
    raw = [json.loads(l) for l in open(raw_file) if l.strip()]
    config = json.load(open(config_file))
    rounds = per_round(raw)
    derived = [dict(derive(r), **derive_notify(r)) for r in rounds]
    names = sorted({rec["name"] for rec in raw})
    medians = {}
    for name in names:
        keys = sorted({k for r in rounds for k in r.get(name, {}) if k not in ("round", "name")})
        medians[name] = {k: median([r.get(name, {}).get(k) for r in rounds]) for k in keys}
    dmed = {k: median([d.get(k) for d in derived]) for k in sorted({k for d in derived for k in d})}
    errors = sum(rec.get("errors", 0) for rec in raw if rec["name"].startswith("portal_"))
    ingest_errors = sum(rec.get("errors", 0) for rec in raw if rec["name"].startswith("ingest_"))
    ingest_runs = sum(1 for rec in raw if rec["name"].startswith("ingest_"))
    m = lambda name, key: medians.get(name, {}).get(key)

    def target(name, value, limit, ok):
        return {"target": name, "value": value, "limit": limit,
                "pass": bool(ok) if value is not None else False}

    # The ceiling is that of the SQL the detail endpoint ran (kept pages cost the stamp read);
    # a run without the stamp figures (an older raw file) falls back to the detail statement's.
    ratio_key = "ratio_detail_sql_big" if dmed.get("ratio_detail_sql_big") else "ratio_detail_big"
    targets = [
        target("detail requests/s >= 75%% of combined ceiling (%d studies)" % config["studies"],
               dmed.get(ratio_key), 0.75, (dmed.get(ratio_key) or 0) >= 0.75),
        target("p99 <= 5 ms at %d connections (mixed, %d studies)" %
               (config["connections"], config["studies"]),
               m("portal_big_mixed", "p99_ms"), 5.0, (m("portal_big_mixed", "p99_ms") or 99) <= 5.0),
        target("0 errors in every portal run", errors, 0, errors == 0),
        target("%d idle connections cost <= 64 MB RSS" % config["idle_connections"],
               dmed.get("idle_rss_cost_mb"), 64, (dmed.get("idle_rss_cost_mb") or 999) <= 64),
        target("idle connections raise p99 by <= 20%", dmed.get("idle_p99_factor"), 1.2,
               (dmed.get("idle_p99_factor") or 99) <= 1.2),
        target("p99 at %d studies within 25%% of p99 at %d (mixed)" %
               (config["studies"], config["small_studies"]),
               dmed.get("p99_growth_mixed"), 1.25, (dmed.get("p99_growth_mixed") or 99) <= 1.25),
    ]
    if "portal_big_mixed_argon" in medians:
        f = dmed.get("argon_p99_factor")
        a = medians.get("argon_load", {})
        # A load the server did not take is not the load the target names: the factor passes only
        # when at least 90 % of the new patients and of the sign-ins offered were answered within
        # the window.
        taken = all(a.get(o) is None or a.get(d) is None or a.get(d) >= 0.9 * a.get(o)
                    for o, d in (("new_per_s", "new_per_s_delivered"),
                                 ("sign_ins_per_s", "sign_ins_per_s_delivered")))
        targets.append(target("mix p99 with new patients (access codes %s) and sign-ins <= 1.5x "
                              "without" % config.get("ingest_access_codes", "in_answer"),
                              f, 1.5, (f or 99) <= 1.5 and taken))
    if "peer_big_detail" in medians:
        target_ratio = dmed.get("peer_detail_ratio")
        targets.append(target("detail req/s >= 3x the fastify peer's (same page, same DB)",
                              target_ratio, 3.0, (target_ratio or 0) >= 3.0))
    if "portal_big_cold" in medians:
        v = dmed.get("cold_detail_ratio")
        targets.append(target("cold detail req/s >= 0.75x the detail statement's pgbench tps",
                              v, 0.75, (v or 0) >= 0.75))
    bursts = [rec for rec in raw if rec["name"] == "burst"]
    if bursts:
        unanswered = sum(b.get("requests", 0) - b.get("answered", 0) for b in bursts)
        targets.append(target("results-go-out burst: every page answered with its report",
                              unanswered, 0, unanswered == 0))
        p99 = m("burst", "p99_ms")
        targets.append(target("results-go-out burst: p99 <= 20 ms", p99, 20.0, (p99 or 999) <= 20.0))
    if ingest_runs:
        # Not a figure but a check: the ingest load counts accepted messages only.
        targets.append(target("every HL7 ACK AA, every JSON ingest answer 200", ingest_errors, 0,
                              ingest_errors == 0))
    results = {"config": config, "medians": medians, "derived_medians": dmed,
               "per_round": [{"round": i + 1, **d} for i, d in enumerate(derived)],
               "targets": targets, "portal_errors_total": errors,
               "ingest_errors_total": ingest_errors, "raw": raw}
    with open(results_file, "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)
        f.write("\n")
    print_table(config, medians, dmed, targets, len(rounds))
    print_peer(medians, dmed)
    print_argon(config, medians, dmed)
    print_notify(config, dmed)
    print_cold_burst(config, medians, dmed)


def print_cold_burst(config, medians, dmed):
    """The cold detail and the results-go-out burst (issue 19)."""
    if "portal_big_cold" not in medians and "burst" not in medians:
        return
    print()
    print("cold pages, big database")
    print("%-44s %10s %8s %8s %8s %7s" % ("run", "req/s", "p50 ms", "p99 ms", "max ms", "errors"))
    rows = [("portal_big_detail", "detail mix, pages kept"),
            ("portal_big_cold", "detail mix, no page kept (cold)"),
            ("portal_big_mixed_burst", "80/15/5 mix during the burst"),
            ("burst", "the burst's page openings")]
    for name, label in rows:
        r = medians.get(name, {})
        if r:
            print("%-44s %10s %8s %8s %8s %7s" % (label, fmt(r.get("rps")), fmt(r.get("p50_ms"), "%.2f"),
                                                  fmt(r.get("p99_ms"), "%.2f"), fmt(r.get("max_ms"), "%.1f"),
                                                  fmt(r.get("errors"))))
    print("cold detail / pgbench detail statement, within each round: x%s" %
          fmt(dmed.get("cold_detail_ratio"), "%.2f"))
    b = medians.get("burst")
    if b:
        print("burst: %s releases by one sweep in %s s; %s of %s pages answered with the report "
              "within a %s s window (client started requests up to %s ms late, p99)" % (
                  fmt(b.get("released")), fmt(b.get("sweep_s"), "%.1f"), fmt(b.get("answered")),
                  fmt(b.get("requests")), fmt(b.get("window_s")),
                  fmt(b.get("client_late_p99_ms"), "%.1f")))
        print("burst p99 / the mixed load's p99 beside it, within each round: x%s" %
              fmt(dmed.get("burst_mix_p99_factor"), "%.2f"))


def fmt(v, spec="%.0f"):
    return "-" if v is None else spec % v


def print_table(config, medians, dmed, targets, nrounds):
    print()
    print("make bench: median of %d rounds, %ds each, wrk -t%d -c%d, %d cores, %d portald threads, "
          "PostgreSQL fsync %s, load average at start %s"
          % (nrounds, config["duration_s"], config["wrk_threads"], config["connections"],
             config["cores"], config.get("portal_threads", config["cores"]),
             "off" if config.get("pg_fast", 1) else "on", config["loadavg_start"]))
    print("%-34s %10s %8s %8s %8s %7s %9s %7s" % ("run", "req/s", "p50 ms", "p99 ms", "p99.9 ms",
                                                "errors", "RSS MB", "kept %"))
    rows = [("http_ceiling", "nginx static JSON (HTTP ceiling)")]
    for size, n in (("big", config["studies"]), ("small", config["small_studies"])):
        rows += [("portal_%s_detail" % size, "portal detail only, %d studies" % n),
                 ("portal_%s_mixed" % size, "portal 80/15/5 mix, %d studies" % n)]
    rows.append(("portal_big_mixed_idle", "  same + %d idle connections" % config["idle_connections"]))
    if "portal_big_mixed_quiet" in medians:
        n = config.get("ingest_connections", 8)
        rows += [("portal_big_mixed_quiet", "portal mix, %d, no ingest" % config["studies"]),
                 ("portal_big_mixed_hl7", "  same + HL7 ingest, %d conns" % n),
                 ("portal_big_mixed_json", "  same + JSON ingest, %d conns" % n)]
    for name, label in rows:
        r = medians.get(name, {})
        rss = r.get("rss_kb")
        print("%-34s %10s %8s %8s %8s %7s %9s %7s" % (
            label, fmt(r.get("rps")), fmt(r.get("p50_ms"), "%.2f"), fmt(r.get("p99_ms"), "%.2f"),
            fmt(r.get("p999_ms"), "%.2f"), fmt(r.get("errors")),
            fmt(rss / 1024.0 if rss else None, "%.1f"), fmt(pct(kept_share(r)))))
    for size, n in (("big", config["studies"]), ("small", config["small_studies"])):
        print("%-34s %10s   (combined ceiling %s, detail at %s, mix at %s of it)" % (
            "pgbench detail SQL, %d studies" % n, fmt(medians.get("db_" + size, {}).get("tps")),
            fmt(dmed.get("combined_ceiling_" + size)),
            fmt(pct(dmed.get("ratio_detail_" + size)), "%.0f%%"),
            fmt(pct(dmed.get("ratio_mixed_" + size)), "%.0f%%")))
        print("%-34s %10s   (detail run: %s of pages reused; its SQL's ceiling %s, combined %s,"
              " detail at %s of it)" % (
                  "pgbench page-stamp SQL, %d" % n, fmt(medians.get("db_stamp_" + size, {}).get("tps")),
                  fmt(pct(dmed.get("page_hit_share_" + size)), "%.0f%%"),
                  fmt(dmed.get("db_sql_ceiling_" + size)), fmt(dmed.get("combined_sql_ceiling_" + size)),
                  fmt(pct(dmed.get("ratio_detail_sql_" + size)), "%.0f%%")))
    print("idle connections: +%s MB RSS, p99 x%s; p99 growth 10k->1M: detail x%s, mix x%s" % (
        fmt(dmed.get("idle_rss_cost_mb"), "%.1f"), fmt(dmed.get("idle_p99_factor"), "%.2f"),
        fmt(dmed.get("p99_growth_detail"), "%.2f"), fmt(dmed.get("p99_growth_mixed"), "%.2f")))
    print_ingest(config, medians, dmed)
    print_fhir(medians, dmed)
    print()
    for t in targets:
        v = t["value"]
        print("  %-4s %-62s %s" % ("PASS" if t["pass"] else "FAIL", t["target"],
                                   fmt(v, "%.3g") if isinstance(v, float) else v))


def print_ingest(config, medians, dmed):
    counts = ingest_connections(medians)
    if not counts:
        return
    print()
    print("ingest: new orders for existing patients, %d studies; one order a connection at a time,"
          " each waiting for its answer" % config["studies"])
    print("%-34s %6s %10s %8s %8s %8s %7s %11s" % ("run", "conns", "msg/s", "p50 ms", "p99 ms",
                                                 "p99.9 ms", "errors", "client CPU"))
    labels = {"hl7": "HL7 ORM^O01 NW over MLLP", "json": "JSON POST /api/v1/ingest/events"}
    names = [("ingest_%s_%d" % (p, n), labels[p], n) for n in counts for p in ("hl7", "json")]
    names.append(("ingest_hl7_page", "HL7 beside the mixed load", config.get("ingest_connections")))
    names.append(("ingest_json_page", "JSON beside the mixed load", config.get("ingest_connections")))
    for name, label, n in names:
        r = medians.get(name, {})
        if not r:
            continue
        cpu, us = r.get("client_cpu_ms"), r.get("duration_us")
        print("%-34s %6s %10s %8s %8s %8s %7s %11s" % (
            label, n, fmt(r.get("rps")), fmt(r.get("p50_ms"), "%.2f"), fmt(r.get("p99_ms"), "%.2f"),
            fmt(r.get("p999_ms"), "%.2f"), fmt(r.get("errors")),
            fmt(pct(cpu * 1000.0 / us) if cpu is not None and us else None, "%.0f%% core")))
    print("HL7/JSON messages/s: %s; %d -> %d connections: HL7 x%s, JSON x%s" % (
        ", ".join("x%s over %d" % (fmt(dmed.get("ingest_hl7_json_ratio_%d" % n), "%.2f"), n)
                  for n in counts),
        counts[0], counts[-1], fmt(dmed.get("ingest_hl7_scaling"), "%.2f"),
        fmt(dmed.get("ingest_json_scaling"), "%.2f")))
    for proto, name in (("hl7", "HL7"), ("json", "JSON")):
        if "portal_big_mixed_" + proto in medians:
            print("mixed load with %s ingest beside it / without: p99 x%s, requests/s x%s" % (
                name, fmt(dmed.get("page_p99_factor_" + proto), "%.2f"),
                fmt(dmed.get("page_rps_factor_" + proto), "%.2f")))


def print_fhir(medians, dmed):
    """The FHIR API's DiagnosticReport search for one patient beside the JSON list (issue 14)."""
    if "portal_big_fhir" not in medians:
        return
    print()
    print("FHIR: one patient's reports (patients with a released report), big database")
    print("%-44s %10s %8s %8s %7s" % ("run", "req/s", "p50 ms", "p99 ms", "errors"))
    for name, label in (("portal_big_list", "JSON GET /api/v1/patient/studies"),
                        ("portal_big_fhir", "FHIR GET /fhir/R4/DiagnosticReport")):
        r = medians.get(name, {})
        print("%-44s %10s %8s %8s %7s" % (label, fmt(r.get("rps")), fmt(r.get("p50_ms"), "%.2f"),
                                          fmt(r.get("p99_ms"), "%.2f"), fmt(r.get("errors"))))
    print("FHIR search / JSON list, within each round: requests/s x%s, p99 x%s" % (
        fmt(dmed.get("fhir_list_ratio"), "%.2f"), fmt(dmed.get("fhir_list_p99_factor"), "%.2f")))


def print_argon(config, medians, dmed):
    """The mixed load with new patients and sign-ins beside it (issue 19's hash pool)."""
    if "portal_big_mixed_argon" not in medians:
        return
    a = medians.get("argon_load", {})
    print()
    print("argon2id beside the mixed load: %s new patients/s (PORTAL_INGEST_ACCESS_CODES=%s) and %s "
          "sign-ins/s offered, big database" % (fmt(a.get("new_per_s")),
                                                config.get("ingest_access_codes", "in_answer"),
                                                fmt(a.get("sign_ins_per_s"))))
    if a.get("new_per_s_delivered") is not None:
        print("answered within the load's window: %s new patients/s and %s sign-ins/s" % (
            fmt(a.get("new_per_s_delivered"), "%.1f"), fmt(a.get("sign_ins_per_s_delivered"), "%.1f")))
    print("%-44s %10s %8s %8s %7s" % ("run", "req/s", "p50 ms", "p99 ms", "errors"))
    for name, label in (("portal_big_mixed_noargon", "mixed load alone"),
                        ("portal_big_mixed_argon", "mixed load with the argon2id load")):
        r = medians.get(name, {})
        print("%-44s %10s %8s %8s %7s" % (label, fmt(r.get("rps")), fmt(r.get("p50_ms"), "%.2f"),
                                          fmt(r.get("p99_ms"), "%.2f"), fmt(r.get("errors"))))
    print("the argon2id requests: %s new patients (%s errors, %s of them 503), %s sign-ins (%s "
          "errors, %s of them 503); their own p99 from when each was due: new patient %s ms, "
          "sign-in %s ms" % (
              fmt(a.get("new_patients")), fmt(a.get("new_patient_errors")),
              fmt(a.get("new_patient_503")), fmt(a.get("sign_ins")),
              fmt(a.get("sign_in_errors")), fmt(a.get("sign_in_503")),
              fmt(a.get("new_patient_p99_ms"), "%.1f"), fmt(a.get("sign_in_p99_ms"), "%.1f")))
    print("mixed p99 with / without, within each round: x%s" % fmt(dmed.get("argon_p99_factor"), "%.2f"))


def print_peer(medians, dmed):
    """The same study page from the peer in Node (fastify, pg, fast-jwt), same database (issue 19)."""
    if "peer_big_detail" not in medians:
        return
    print()
    print("The study page against a peer in Node (tests/bench/peer), big database, detail mix")
    print("%-44s %10s %8s %8s %7s %9s" % ("run", "req/s", "p50 ms", "p99 ms", "errors", "RSS MB"))
    for name, label in (("portal_big_detail", "portald (C)"),
                        ("peer_big_detail", "peer (fastify, pg, fast-jwt)")):
        r = medians.get(name, {})
        rss = r.get("rss_kb")
        print("%-44s %10s %8s %8s %7s %9s" % (label, fmt(r.get("rps")), fmt(r.get("p50_ms"), "%.2f"),
                                              fmt(r.get("p99_ms"), "%.2f"), fmt(r.get("errors")),
                                              fmt(rss / 1024.0 if rss else None, "%.0f")))
    print("portald / peer, within each round: requests/s x%s, p99 x%s" % (
        fmt(dmed.get("peer_detail_ratio"), "%.2f"), fmt(dmed.get("peer_p99_factor"), "%.2f")))


def kept_share(run):
    """The share of a run's page requests answered from a kept page."""
    n = sum(run.get("page_" + k) or 0 for k in ("hit", "stale", "miss"))
    return run.get("page_hit", 0) / n if n else None


def pct(v):
    return v * 100 if v is not None else None


if __name__ == "__main__":
    main()
