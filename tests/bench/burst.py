#!/usr/bin/env python3
"""The results-go-out burst: every patient whose report a release sweep has just shared opens
that study's page once, the openings spread evenly over WINDOW seconds (an open-loop schedule:
the i-th patient starts at i * WINDOW / N, whatever the server's pace), each on a new connection,
as a patient following a notification would. Prints one JSON line: how many requests, how many
answered 200 with the released report in the page, the errors, the latency percentiles from the
moment each request was due (so a server that falls behind shows it, rather than the client
slowing down with it) and how late the client itself started requests.
Usage: burst.py HOST PORT PAGES_FILE WINDOW_S [WORKERS]
PAGES_FILE: one page a line, TOKEN <TAB> study id."""
import http.client
import json
import queue
import sys
import threading
import time


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__)
    host, port, pages_file, window = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    workers = int(sys.argv[5]) if len(sys.argv) == 6 else 64
    pages = [line.rstrip("\n").split("\t")[:2] for line in open(pages_file) if line.strip()]
    step = window / max(1, len(pages))
    todo = queue.Queue()
    for i, page in enumerate(pages):
        todo.put((i * step, page))
    lock = threading.Lock()
    latencies, late, errors, answered = [], [], [], [0]
    start = time.monotonic() + 0.2

    def work():
        while True:
            try:
                offset, (token, study) = todo.get_nowait()
            except queue.Empty:
                return
            due = start + offset
            now = time.monotonic()
            if now < due:
                time.sleep(due - now)
            sent = time.monotonic()
            error = None
            try:
                conn = http.client.HTTPConnection(host, port, timeout=10)
                conn.request("GET", "/api/v1/patient/studies/" + study,
                             headers={"Authorization": "Bearer " + token})
                resp = conn.getresponse()
                body = resp.read()
                conn.close()
                if resp.status != 200:
                    error = "status %d" % resp.status
                elif b'"report":' not in body:
                    error = "no report in the page"
            except (OSError, http.client.HTTPException) as e:
                error = type(e).__name__
            done = time.monotonic()
            with lock:
                late.append((sent - due) * 1000.0)
                if error:
                    errors.append(error)
                else:
                    answered[0] += 1
                    latencies.append((done - due) * 1000.0)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    kinds = {}
    for e in errors:
        kinds[e] = kinds.get(e, 0) + 1
    print(json.dumps({
        "requests": len(pages), "answered": answered[0], "errors": len(errors),
        "error_kinds": kinds, "window_s": window, "elapsed_s": round(elapsed, 2),
        "rps": round(len(pages) / elapsed, 1) if elapsed > 0 else None,
        "p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99),
        "p999_ms": percentile(latencies, 99.9), "max_ms": max(latencies) if latencies else None,
        "client_late_p99_ms": percentile(late, 99)}))


if __name__ == "__main__":
    main()
