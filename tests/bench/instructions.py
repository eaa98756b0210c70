#!/usr/bin/env python3
"""Instructions per warm patient detail request, counted by valgrind's callgrind: a figure that
moves far less with the machine's load than requests per second (about 1 % with a test suite
running beside it), for comparing two builds run on a quiet machine, interleaved.

Usage: tests/bench/instructions.py ROOT BINARY [FEW MANY]
  ROOT    a checkout (its sql/ and tests/lib/pg_throwaway.sh are used)
  BINARY  the portald to count (e.g. ROOT/build-perf/portald)
Starts a throwaway PostgreSQL and `valgrind --tool=callgrind BINARY serve` with one thread, ingests
one study, then asks for its detail page FEW times and, in a second run, MANY times (defaults 200
and 1200) on one keep-alive connection; prints (total(MANY) - total(FEW)) / (MANY - FEW), the
instructions of one request answered from a kept page (token cached, one stamp read)."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time


def count(root, binary, n):
    work = tempfile.mkdtemp(prefix="portal-instructions.")
    urls = subprocess.run([os.path.join(root, "tests/lib/pg_throwaway.sh"), "start", work],
                          capture_output=True, text=True, check=True).stdout.split("\n")
    env = dict(os.environ, PORTAL_MIGRATE_DATABASE_URL=urls[0], PORTAL_DATABASE_URL=urls[1],
               PORTAL_JWT_SECRET="instructions-" + "0123456789abcdef" * 2,
               PORTAL_MIGRATIONS_DIR=os.path.join(root, "sql/migrations"), PORTAL_THREADS="1",
               PORTAL_ESTIMATES_REFRESH="86400", PORTAL_RELEASE_SWEEP="0", PORTAL_STATIC_DIR="")
    proc = None
    try:
        subprocess.run([binary, "migrate"], env=env, check=True, capture_output=True)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        env["PORTAL_LISTEN"] = "127.0.0.1:%d" % port
        out = os.path.join(work, "callgrind.out")
        proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                                 binary, "serve"], env=env, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)

        def token(role, sub):
            return subprocess.run([binary, "token", "--role", role, "--sub", sub], env=env,
                                  capture_output=True, text=True, check=True).stdout.strip()

        event = {"event_id": "instructions-1", "type": "ordered",
                 "occurred_at": "2026-11-20T14:05:00Z",
                 "patient": {"mrn": "INS-1", "name": "Test Patient", "birth_date": "1980-01-01"},
                 "study": {"accession": "INS-ACC-1", "modality": "CT", "description": "CT chest"},
                 "referring_physician": {"id": "INS-NPI", "name": "Dr. Test"}}
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        c.request("POST", "/api/v1/ingest/events", body=json.dumps(event),
                  headers={"Authorization": "Bearer " + token("ris", "instructions"),
                           "Content-Type": "application/json"})
        made = json.loads(c.getresponse().read())
        auth = "Bearer " + token("patient", made["patient_id"])
        for _ in range(n):
            c.request("GET", "/api/v1/patient/studies/" + made["study_id"],
                      headers={"Authorization": auth})
            r = c.getresponse()
            r.read()
            assert r.status == 200, r.status
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=300)
        proc = None
        for line in open(out):
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
        raise SystemExit("no totals in callgrind's output")
    finally:
        if proc:
            proc.kill()
        subprocess.run([os.path.join(root, "tests/lib/pg_throwaway.sh"), "stop", work],
                       capture_output=True)
        subprocess.run(["rm", "-rf", work])


def main():
    if len(sys.argv) not in (3, 5):
        raise SystemExit(__doc__)
    root, binary = sys.argv[1], sys.argv[2]
    few, many = (int(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) == 5 else (200, 1200)
    a, b = count(root, binary, few), count(root, binary, many)
    print("%s: %d instructions per warm detail request (%d at %d requests, %d at %d)"
          % (binary, round((b - a) / (many - few)), a, few, b, many))


if __name__ == "__main__":
    main()
