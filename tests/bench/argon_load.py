#!/usr/bin/env python3
"""The argon2id load beside the page load (issue 19): new patients ingested through the JSON API
at NEW_PER_S a second (each costs the server an access code's argon2id hash, unless it runs with
PORTAL_INGEST_ACCESS_CODES=on_request) and sign-ins at SIGNIN_PER_S a second with the codes in
CODES_FILE (each costs a verification), offered on schedule over several connections, for
SECONDS. Prints one JSON line: what was sent, how it was answered, the p99 of each kind from its
due time, and the rate of each answered within SECONDS: what the server really took, which can be
far below what was offered (docs/performance.md).
Usage: argon_load.py PORT RIS_TOKEN NEW_PER_S SIGNIN_PER_S SECONDS TAG CODES_FILE
       argon_load.py --prepare PORT RIS_TOKEN STAFF_TOKEN COUNT CODES_FILE
           (COUNT new patients for the sign-ins, each with a code: from the ingest answer, else
           issued by the front desk; one code a line in CODES_FILE. Run once, before any load.)"""
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
            path, body, headers = self.make(n)
            try:
                conn.request("POST", path, body=json.dumps(body), headers=headers)
                r = conn.getresponse()
                r.read()
                status = r.status
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


BIRTH_DATE = "1980-01-01"


def post(conn, path, body, headers):
    """POST with a JSON body, or with none (body None)."""
    if body is not None:
        headers = dict(headers, **{"Content-Type": "application/json"})
    conn.request("POST", path, body=None if body is None else json.dumps(body), headers=headers)
    r = conn.getresponse()
    return r.status, r.read()


def prepare(port, ris_token, staff_token, count, out):
    """The sign-ins' patients, made before any measurement so that none of their hashes lands in
    one: a sign-in verifies the same way whichever way its code was made."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    codes = []
    for n in range(count):
        tag = "ARGON-SIGNIN-%d-%d" % (int(time.time()), n)
        ev = {"event_id": tag, "type": "ordered", "occurred_at": "2026-11-20T08:00:00Z",
              "patient": {"mrn": tag, "name": "Bench Signer", "birth_date": BIRTH_DATE},
              "study": {"accession": tag, "modality": "XR", "description": "XR chest",
                        "priority": "routine", "site": "main"},
              "referring_physician": {"id": "ARGON-NPI", "name": "Dr. Argon"}}
        status, data = post(conn, "/api/v1/ingest/events", ev,
                            {"Authorization": "Bearer " + ris_token})
        if status != 200:
            sys.exit("argon_load --prepare: ingest answered %s: %s" % (status, data[:200]))
        answer = json.loads(data)
        code = answer.get("access_code")
        if not code:
            status, data = post(conn, "/api/v1/staff/patients/%s/access-code" % answer["patient_id"],
                                None, {"Authorization": "Bearer " + staff_token})
            if status != 201:
                sys.exit("argon_load --prepare: new access code answered %s: %s" % (status, data[:200]))
            code = json.loads(data)["access_code"]
        codes.append(code)
    conn.close()
    with open(out, "w") as f:
        f.write("".join(c + "\n" for c in codes))


def main():
    if len(sys.argv) == 7 and sys.argv[1] == "--prepare":
        prepare(int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6])
        return
    if len(sys.argv) != 8:
        sys.exit(__doc__)
    port, token, new_rate, signin_rate, seconds, tag, codes_file = sys.argv[1:]
    port, new_rate, signin_rate, seconds = int(port), float(new_rate), float(signin_rate), float(seconds)
    with open(codes_file) as f:
        codes = [line.strip() for line in f if line.strip()]
    if not codes:
        sys.exit("argon_load: no codes in " + codes_file)

    def new_patient(n):
        ev = {"event_id": "argon-%s-%d" % (tag, n), "type": "ordered",
              "occurred_at": "2026-11-20T08:00:00Z",
              "patient": {"mrn": "ARGON-%s-%d" % (tag, n), "name": "Bench Newcomer",
                          "birth_date": BIRTH_DATE},
              "study": {"accession": "ARGON-%s-%d" % (tag, n), "modality": "XR",
                        "description": "XR chest", "priority": "routine", "site": "main"},
              "referring_physician": {"id": "ARGON-NPI", "name": "Dr. Argon"}}
        return ("/api/v1/ingest/events", ev,
                {"Authorization": "Bearer " + token, "Content-Type": "application/json"})

    def sign_in(n):
        # Each from its own address would need a proxy; the bench lifts the per-address limit
        # instead (PORTAL_TRUSTED_PROXIES unset, so X-Forwarded-For is ignored): the codes
        # rotate, and every sign-in is right.
        return ("/api/v1/session", {"access_code": codes[n % len(codes)], "birth_date": BIRTH_DATE},
                {"Content-Type": "application/json"})

    ingest = Paced(port, new_rate, seconds, new_patient, 200)
    signin = Paced(port, signin_rate, seconds, sign_in, 201)
    ingest.start()
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
