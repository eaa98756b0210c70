#!/usr/bin/env python3
"""Debian's sqlmap (level 5, risk 3) on every parameter of every endpoint of a throwaway stack:
each JSON member of each body, each query parameter and each {id} path segment, with a token of
the role the endpoint wants. Part of `make security`, not of `make test` (it sends tens of
thousands of requests). Prints one line per endpoint, the request count from portald's access
log, and ends with "N passed, N failed": an endpoint fails when sqlmap calls a parameter
injectable or portald's log holds a sanitizer report.
Usage: sqlmap_all.py [substring ...] to run only the endpoints whose path contains one."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness  # noqa: E402
from flows import final_study  # noqa: E402


def endpoints(s, leaving, ris_token, admin_token):
    """(method, path with * at a path parameter, query, body, token) for every route."""
    sid = s.study_id
    now = "2026-11-20T14:05:00Z"
    return [
        ("GET", "/healthz", None, None, None),
        ("GET", "/readyz", None, None, None),
        ("GET", "/metrics", None, None, None),
        ("POST", "/api/v1/ingest/events", None, harness.event(), ris_token),
        ("POST", "/api/v1/ingest/reports", None, harness.report(s.accession), ris_token),
        ("POST", "/api/v1/session", None,
         {"access_code": "YWRJ-9RWJ-H1G7-JJWW", "birth_date": "1985-12-10"}, None),
        # Signing out ends the sessions of the token's patient: another patient's.
        ("DELETE", "/api/v1/session", None, None, leaving.patient),
        ("GET", "/api/v1/patient/studies", None, None, s.patient),
        ("GET", "/api/v1/patient/studies/%s*" % sid, None, None, s.patient),
        ("POST", "/api/v1/patient/studies/%s*/discussion-requests" % sid, None,
         {"preferred_times": ["2026-12-25T15:00:00Z"], "message": "Mornings are best"},
         s.patient),
        ("PUT", "/api/v1/patient/studies/%s*/preference" % sid, None,
         {"release": "wait_for_physician", "wait_days": 7}, s.patient),
        ("GET", "/api/v1/patient/preferences", None, None, s.patient),
        ("PUT", "/api/v1/patient/preferences", None,
         {"release": "wait_for_physician", "wait_days": 7}, s.patient),
        ("GET", "/api/v1/physician/worklist", "state=all", None, s.physician),
        ("GET", "/api/v1/physician/studies/%s*" % sid, None, None, s.physician),
        ("POST", "/api/v1/physician/studies/%s*/release" % sid, None, {"note": "A note."},
         s.physician),
        ("POST", "/api/v1/physician/studies/%s*/hold" % sid, None, {"reason": "Call first."},
         s.physician),
        ("POST", "/api/v1/physician/session", None,
         {"physician_id": s.physician_id, "password": "not-the-password"}, None),
        ("GET", "/api/v1/physician/discussion-requests", None, None, s.physician),
        ("GET", "/api/v1/admin/holds", "from=%s&to=%s&format=json" % (now, now), None,
         admin_token),
    ]


def main():
    import json
    wanted = sys.argv[1:]
    if not shutil.which("sqlmap"):
        print("not ok - sqlmap is not installed (apt-get install sqlmap)")
        print("0 passed, 1 failed")
        return 1
    cluster = harness.Cluster("sqlmap")
    # The login throttle and the per-address limit would turn sqlmap's probes into 429s and
    # refusals that hide what the parameters do: lift them for this run.
    server = harness.Server(cluster, env={"PORTAL_PER_IP_CONNECTIONS": "0"})
    passed = failed = 0
    total_requests = 0
    try:
        s = final_study(server)
        leaving = final_study(server)
        ris = server.ris()
        admin = server.token("admin", "sqlmap-admin")
        out_dir = tempfile.mkdtemp(prefix="sqlmap-", dir=harness.TMP)
        for method, path, query, body, token in endpoints(s, leaving, ris, admin):
            if wanted and not any(w in path for w in wanted):
                continue
            cluster.sql("DELETE FROM portal.login_throttle")
            before = len(server.read_log().splitlines())
            url = "http://127.0.0.1:%d%s%s" % (server.port, path, "?" + query if query else "")
            cmd = ["sqlmap", "-u", url, "--method", method, "--level", "5", "--risk", "3",
                   "--batch", "--flush-session", "--disable-coloring", "--threads", "4",
                   "--dbms", "PostgreSQL", "--skip", "user-agent,referer,host",
                   "--output-dir", out_dir, "-v", "1",
                   # 401 and 429 are answers here (a wrong access code, the sign-in throttle),
                   # not a reason for sqlmap to stop.
                   "--ignore-code", "401,429"]
            if token:
                cmd += ["-H", "Authorization: Bearer " + token]
            if body is not None:
                cmd += ["--data", json.dumps(body), "-H", "Content-Type: application/json"]
            t0 = time.time()
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
            took = time.time() - t0
            sent = len(server.read_log().splitlines()) - before
            total_requests += sent
            text = p.stdout + p.stderr
            # sqlmap's verdict: an injection point it could confirm is listed under "identified
            # the following injection point(s)"; a boolean-based hint it could not confirm is
            # called a "false positive or unexploitable" and is not one.
            confirmed = "identified the following injection point" in text
            tested = sorted(set(re.findall(r"testing if (?:\(custom\) )?[A-Z ()]*parameter "
                                           r"'([^']+)' is dynamic", text)) |
                            set(re.findall(r"(?:\(custom\) )?[A-Z ()]*parameter '([^']+)' "
                                           r"(?:does not seem|is not) (?:to be )?injectable",
                                           text)))
            false_hints = len(re.findall(r"false positive or unexploitable", text))
            name = "%s %s" % (method, path.replace("*", ""))
            # Fewer requests than that means sqlmap stopped early (refused, or nothing to test):
            # that proves nothing.
            if confirmed or p.returncode != 0 or sent < 100:
                failed += 1
                print("not ok - %s: injection confirmed %s, exit %d, %d requests in %.0f s" % (
                    name, confirmed, p.returncode, sent, took))
                for line in text.splitlines()[-12:]:
                    print("#   " + line)
            else:
                passed += 1
                print("ok - %s: no injectable parameter among %s (%d hints sqlmap itself "
                      "dismissed), %d requests in %.0f s" % (
                          name, ", ".join(tested) or "(none found)", false_hints, sent, took),
                      flush=True)
        reports = server.sanitizer_reports()
        if reports:
            failed += 1
            print("not ok - sanitizers: %s" % reports[0])
        else:
            passed += 1
            print("ok - sanitizers: no report in portald's log")
        print("# sqlmap: %d requests in all" % total_requests)
    finally:
        server.stop()
        cluster.destroy()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
