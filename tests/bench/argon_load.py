#!/usr/bin/env python3
"""The argon2id load beside the page load (issue 19): new patients ingested through the JSON API
at NEW_PER_S a second (each costs the server an access code's argon2id hash) and sign-ins at
SIGNIN_PER_S a second with the codes those answers carried (each costs a verification), offered
on schedule over several connections, for SECONDS. Prints one JSON line: what was sent, how it was
answered, the p99 of each kind from its due time, and the rate of each answered within SECONDS:
what the server really took, which can be far below what was offered (docs/performance.md).
Usage: argon_load.py PORT RIS_TOKEN NEW_PER_S SIGNIN_PER_S SECONDS TAG"""
import http.client
import json
import queue
import sys
import threading
import time


def p99(values):
    if not values:
        return None
    v = sorted(values)
    return round(v[min(len(v) - 1, int(len(v) * 0.99))] * 1000, 3)


class Paced(threading.Thread):
    """Offers one request every 1/rate seconds, on schedule, whatever the server's pace: each is
    handed at its due time to the first free one of WORKERS threads, each with its own keep-alive
    connection, so a slow answer does not hold the next request back (a rate offered, not a closed
    loop). Latency is taken from the due time, so a server that falls behind shows in the p99;
    `answered_in_time` counts the answers with status OK that came within the SECONDS the load was
    offered: a 503 (the hash pool full) is an answer, but not the work done."""

    WORKERS = 32

    def __init__(self, port, rate, seconds, make, ok):
        super().__init__(daemon=True)
        self.port, self.rate, self.seconds, self.make, self.ok = port, rate, seconds, make, ok
        self.statuses, self.times = {}, []
        self.answered_in_time = 0
        self.lock = threading.Lock()
        self.due = queue.Queue()

    def run(self):
        self.start_at = time.monotonic()
        workers = [threading.Thread(target=self.work, daemon=True) for _ in range(self.WORKERS)]
        for w in workers:
            w.start()
        n = 0
        while n / self.rate < self.seconds:
            due = self.start_at + n / self.rate
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            self.due.put((n, due))
            n += 1
        for _ in workers:
            self.due.put(None)
        for w in workers:
            w.join()

    def work(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        while True:
            item = self.due.get()
            if item is None:
                conn.close()
                return
            n, due = item
            req = self.make(n)
            if req is None:
                continue
            path, body, headers = req
            try:
                conn.request("POST", path, body=json.dumps(body), headers=headers)
                r = conn.getresponse()
                data = r.read()
                status = r.status
                self.answer(n, status, data)
            except (OSError, http.client.HTTPException):
                status = "io_error"
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            done = time.monotonic()
            with self.lock:
                self.times.append(done - due)
                self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
                if status == self.ok and done - self.start_at <= self.seconds:
                    self.answered_in_time += 1

    def answer(self, n, status, data):
        pass


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    port, token, new_rate, signin_rate, seconds, tag = sys.argv[1:]
    port, new_rate, signin_rate, seconds = int(port), float(new_rate), float(signin_rate), float(seconds)
    codes = []
    lock = threading.Lock()

    def new_patient(n):
        ev = {"event_id": "argon-%s-%d" % (tag, n), "type": "ordered",
              "occurred_at": "2026-11-20T08:00:00Z",
              "patient": {"mrn": "ARGON-%s-%d" % (tag, n), "name": "Bench Newcomer",
                          "birth_date": "1980-01-01"},
              "study": {"accession": "ARGON-%s-%d" % (tag, n), "modality": "XR",
                        "description": "XR chest", "priority": "routine", "site": "main"},
              "referring_physician": {"id": "ARGON-NPI", "name": "Dr. Argon"}}
        return ("/api/v1/ingest/events", ev,
                {"Authorization": "Bearer " + token, "Content-Type": "application/json"})

    def sign_in(n):
        with lock:
            code = codes[n % len(codes)] if codes else None
        if code is None:
            return None
        # Each from its own address would need a proxy; the bench lifts the per-address limit
        # instead (PORTAL_TRUSTED_PROXIES unset, so X-Forwarded-For is ignored): the codes
        # rotate, and every sign-in is right.
        return ("/api/v1/session", {"access_code": code, "birth_date": "1980-01-01"},
                {"Content-Type": "application/json"})

    ingest = Paced(port, new_rate, seconds, new_patient, 200)

    def keep_code(n, status, data):
        if status == 200:
            code = json.loads(data).get("access_code")
            if code:
                with lock:
                    codes.append(code)

    ingest.answer = keep_code
    signin = Paced(port, signin_rate, seconds, sign_in, 201)
    ingest.start()
    time.sleep(0.5)  # a few codes first
    signin.start()
    ingest.join()
    signin.join()
    ok_new, ok_in = ingest.statuses.get("200", 0), signin.statuses.get("201", 0)
    print(json.dumps({"new_patients": ok_new, "new_patient_errors": sum(ingest.statuses.values()) - ok_new,
                      "new_patient_503": ingest.statuses.get("503", 0),
                      "sign_ins": ok_in, "sign_in_errors": sum(signin.statuses.values()) - ok_in,
                      "sign_in_503": signin.statuses.get("503", 0),
                      "new_patient_p99_ms": p99(ingest.times), "sign_in_p99_ms": p99(signin.times),
                      "new_per_s": new_rate, "sign_ins_per_s": signin_rate,
                      "new_per_s_delivered": round(ingest.answered_in_time / seconds, 1),
                      "sign_ins_per_s_delivered": round(signin.answered_in_time / seconds, 1)}))


if __name__ == "__main__":
    main()
