#!/usr/bin/env python3
"""Picks random bench patients and writes what the load needs, one patient a line:
   TOKEN <TAB> study ids (comma-separated) <TAB> released study ids (may be empty)
The tokens are HS256, minted here with the bench's own secret, valid for the run.
Usage: tokens.py SUPERUSER_CONNINFO PATIENTS COUNT SECRET ISSUER AUDIENCE OUT_FILE
       tokens.py --ris SECRET ISSUER AUDIENCE   (prints one RIS token, for the ingest load)
       tokens.py --staff SECRET ISSUER AUDIENCE   (prints one front-desk token, which issues the
           sign-in codes of the argon2id load)
       tokens.py --pages SECRET ISSUER AUDIENCE IN OUT   (IN: patient <TAB> study a line; OUT:
           that patient's token <TAB> study, for the burst of tests/bench/burst.py)"""
import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(secret, sub, issuer, audience, ttl=6 * 3600, role="patient"):
    now = int(time.time())
    head = {"alg": "HS256", "typ": "JWT"}
    body = {"sub": sub, "role": role, "iss": issuer, "aud": audience, "iat": now,
            "exp": now + ttl}
    signing = b64url(json.dumps(head, separators=(",", ":")).encode()) + "." + \
        b64url(json.dumps(body, separators=(",", ":")).encode())
    sig = hmac.new(secret.encode(), signing.encode(), hashlib.sha256).digest()
    return signing + "." + b64url(sig)


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--ris":
        print(mint(sys.argv[2], "bench-ris", sys.argv[3], sys.argv[4], role="ris"))
        return
    if len(sys.argv) == 5 and sys.argv[1] == "--staff":
        print(mint(sys.argv[2], "bench-desk", sys.argv[3], sys.argv[4], role="staff"))
        return
    if len(sys.argv) == 7 and sys.argv[1] == "--pages":
        secret, issuer, audience, src, out = sys.argv[2:]
        with open(src) as f, open(out, "w") as o:
            for line in f:
                if line.strip():
                    patient, study = line.rstrip("\n").split("\t")[:2]
                    o.write("%s\t%s\n" % (mint(secret, patient, issuer, audience), study))
        return
    if len(sys.argv) != 8:
        sys.exit(__doc__)
    conninfo, patients, count, secret, issuer, audience, out = sys.argv[1:]
    patients, count = int(patients), int(count)
    # Distinct random patient numbers; their ids follow from seed.sql's md5 rule.
    query = (
        "SELECT s.patient_id, string_agg(s.id::text, ',' ORDER BY s.id), "
        "coalesce(string_agg(s.id::text, ',' ORDER BY s.id) "
        "FILTER (WHERE s.released_version IS NOT NULL), '') "
        "FROM portal.studies s WHERE s.patient_id IN ("
        "SELECT DISTINCT md5('bench-patient-' || (1 + floor(random() * %d))::int)::uuid "
        "FROM generate_series(1, %d)) GROUP BY s.patient_id" % (patients, count))
    rows = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                           conninfo, "-c", query], check=True, capture_output=True,
                          text=True).stdout.splitlines()
    with open(out, "w") as f:
        for row in rows:
            if not row:
                continue
            patient, studies, released = row.split("\t")
            f.write("%s\t%s\t%s\n" % (mint(secret, patient, issuer, audience), studies, released))
    print(len(rows))


if __name__ == "__main__":
    main()
