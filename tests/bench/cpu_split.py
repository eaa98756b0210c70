#!/usr/bin/env python3
"""Where the two cores went in each run of a `make bench`: CPU per request by process class.

The targets of docs/performance.md are ratios against ceilings measured alone (nginx, pgbench); this
says what each request cost each process in the same window, so a missed ratio can be read as
microseconds of whose CPU. Input: `top -b -d 2 -c -w 250` output taken while the bench ran (lines of
processes under 3 % may be dropped), and the bench's own log (its "HH:MM:SS bench: round R NAME:"
lines, which are printed when a run ends). Each run's window is the 8 s before its line, less a
second at each end; a class's share is the mean over the samples in the window, and divided by the
run's requests (or transactions) per second it is the CPU per request.

    top -b -d 2 -c -w 250 | awk '/^top -/ {print; next} $9+0 >= 3 {print}' >top.log &
    make B=build-bench bench | tee bench.log
    tests/bench/cpu_split.py top.log bench.log [NAME,NAME...]
"""
import json
import re
import statistics
import sys

DEFAULT_RUNS = ("http_ceiling,db_big,db_stamp_big,portal_big_detail,portal_big_mixed,"
                "portal_small_mixed,portal_big_cold,peer_big_detail")


def process_class(command):
    if "portald" in command:
        return "portald"
    if command.startswith("wrk"):
        return "wrk"
    if "nginx" in command:
        return "nginx"
    if "pgbench" in command:
        return "pgbench"
    if command.startswith("postgres: ") and "[local]" in command:
        return "postgres backends"
    if "postgres" in command:
        return "postgres other"
    if "node" in command and "server.mjs" in command:
        return "peer (node)"
    return "other"


def seconds(clock):
    h, m, s = map(int, clock.split(":"))
    return h * 3600 + m * 60 + s


def read_top(path):
    samples = []  # (seconds, {class: percent of a core})
    for line in open(path, errors="replace"):
        head = re.match(r"top - (\d\d:\d\d:\d\d)", line)
        if head:
            samples.append((seconds(head.group(1)), {}))
            continue
        fields = line.split(None, 11)
        if not samples or len(fields) < 12 or not fields[0].isdigit():
            continue
        try:
            share = float(fields[8])
        except ValueError:
            continue
        shares = samples[-1][1]
        name = process_class(fields[11])
        shares[name] = shares.get(name, 0.0) + share
    return samples


def read_runs(path, wanted):
    for line in open(path, errors="replace"):
        m = re.match(r"(\d\d:\d\d:\d\d) bench: round (\d+) (\S+): (tps (\S+)|\{.*\})\s*$", line)
        if not m or m.group(3) not in wanted:
            continue
        rate = float(m.group(5)) if m.group(5) else json.loads(m.group(4)).get("rps")
        if rate:
            yield seconds(m.group(1)), int(m.group(2)), m.group(3), rate


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    wanted = set((argv[3] if len(argv) > 3 else DEFAULT_RUNS).split(","))
    samples = read_top(argv[1])
    for end, rnd, name, rate in read_runs(argv[2], wanted):
        window = [s for t, s in samples if end - 9 <= t <= end - 1]
        if not window:
            print(f"round {rnd} {name}: no top samples in its window")
            continue
        classes = sorted({c for s in window for c in s}, key=lambda c: -sum(s.get(c, 0) for s in window))
        mean = {c: statistics.mean(s.get(c, 0.0) for s in window) for c in classes}
        total = sum(mean.values())
        parts = ", ".join(f"{c} {mean[c]:.0f} % {mean[c] * 1e4 / rate:.1f} us"
                          for c in classes if mean[c] >= 3)
        print(f"round {rnd} {name:24s} {rate:9.0f}/s  all {total:.0f} % = "
              f"{total * 1e4 / rate:.1f} us a request: {parts}")


if __name__ == "__main__":
    main(sys.argv)
