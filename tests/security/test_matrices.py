"""The proof as our own tests (issue 20): every class of forged token against every endpoint that
needs one, and every patient's and physician's token against every other one's studies. Each
prints its count as a "#" line. Run by tests/suites/security.sh (part of make test) and by make
security, through tests/integration/run.py --dir tests/security."""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402
from flows import final_study, patient_path, physician_path  # noqa: E402

WRONG_KEY = "another-secret-entirely-0123456789abcdef"


def _b64(data):
    return harness.b64url(data if isinstance(data, bytes) else data.encode())


def _raw(header_text, payload_text, key=harness.SECRET, sig=None):
    signing = _b64(header_text) + "." + _b64(payload_text)
    if sig is None:
        k = key.encode() if isinstance(key, str) else key
        sig = _b64(hmac.new(k, signing.encode(), hashlib.sha256).digest())
    return signing + "." + sig


def _claims(role, sub, **over):
    now = int(time.time())
    c = {"sub": sub, "role": role, "iss": harness.ISSUER, "aud": harness.AUDIENCE, "iat": now,
         "exp": now + 600}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def _public_key_pem():
    d = tempfile.mkdtemp()
    priv, pub = os.path.join(d, "k.pem"), os.path.join(d, "pub.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-out", priv], check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", priv, "-pubout", "-out", pub], check=True,
                   capture_output=True)
    return open(pub, "rb").read()


def forgeries(role, sub, pem):
    """(class, token) for every kind of forged or unacceptable token for (role, sub)."""
    h = '{"alg":"HS256","typ":"JWT"}'
    good = json.dumps(_claims(role, sub))
    now = int(time.time())
    out = []

    def add(name, tok):
        out.append((name, tok))

    add("alg none", _b64('{"alg":"none","typ":"JWT"}') + "." + _b64(good) + ".")
    add("alg None", _b64('{"alg":"None","typ":"JWT"}') + "." + _b64(good) + ".")
    add("alg none with a signature", _raw('{"alg":"none","typ":"JWT"}', good))
    add("alg missing", _raw('{"typ":"JWT"}', good))
    add("alg lower case", _raw('{"alg":"hs256","typ":"JWT"}', good))
    for alg in ("HS384", "HS512", "RS256", "ES256", "PS256", "EdDSA"):
        add("alg %s signed with the secret" % alg, _raw('{"alg":"%s","typ":"JWT"}' % alg, good))
    add("HS256 signed with the public key", _raw(h, good, key=pem))
    add("wrong key", _raw(h, good, key=WRONG_KEY))
    add("empty key", _raw(h, good, key=b""))
    add("signature stripped", _raw(h, good, sig=""))
    add("signature of another token", _raw(h, good, sig=_raw(h, json.dumps(
        _claims(role, sub, exp=now + 601))).split(".")[2]))
    tampered = _raw(h, good).split(".")
    tampered[1] = _b64(json.dumps(_claims(role, sub, exp=now + 86400 * 365)))
    add("payload changed after signing", ".".join(tampered))
    add("role raised after signing", ".".join([tampered[0], _b64(json.dumps(
        _claims("physician" if role != "physician" else "ris", sub))), tampered[2]]))
    add("two segments", ".".join(_raw(h, good).split(".")[:2]))
    add("four segments", _raw(h, good) + ".AAAA")
    add("padding in base64", _raw(h, good).replace(".", "=.", 1))
    add("not base64", "!!!." + _b64(good) + ".sig")
    add("expired", _raw(h, json.dumps(_claims(role, sub, exp=now - 3600))))
    add("exp missing", _raw(h, json.dumps(_claims(role, sub, exp=None))))
    add("exp as a string", _raw(h, json.dumps(_claims(role, sub, exp=str(now + 600)))))
    add("nbf in the future", _raw(h, json.dumps(_claims(role, sub, nbf=now + 3600))))
    add("nbf as a string", _raw(h, json.dumps(_claims(role, sub, nbf=str(now + 3600)))))
    add("iat in the future", _raw(h, json.dumps(_claims(role, sub, iat=now + 3600))))
    add("iat as a string", _raw(h, json.dumps(_claims(role, sub, iat=str(now)))))
    add("wrong iss", _raw(h, json.dumps(_claims(role, sub, iss="someone-else"))))
    add("iss missing", _raw(h, json.dumps(_claims(role, sub, iss=None))))
    add("wrong aud", _raw(h, json.dumps(_claims(role, sub, aud="another-app"))))
    add("aud missing", _raw(h, json.dumps(_claims(role, sub, aud=None))))
    add("aud array without ours", _raw(h, json.dumps(_claims(role, sub, aud=["a", "b"]))))
    add("aud array with a number", _raw(h, json.dumps(_claims(role, sub,
                                                              aud=[harness.AUDIENCE, 1]))))
    add("sub missing", _raw(h, json.dumps(_claims(role, None))))
    add("sub empty", _raw(h, json.dumps(_claims(role, ""))))
    add("sub a number", _raw(h, json.dumps(_claims(role, 12345))))
    add("role missing", _raw(h, json.dumps(_claims(None, sub))))
    add("role unknown", _raw(h, json.dumps(_claims("superuser", sub))))
    add("role an array", _raw(h, json.dumps(_claims([role], sub))))
    add("crit header", _raw('{"alg":"HS256","typ":"JWT","crit":["exp"]}', good))
    add("typ missing", _raw('{"alg":"HS256"}', good))
    add("typ wrong", _raw('{"alg":"HS256","typ":"JWE"}', good))
    add("typ a number", _raw('{"alg":"HS256","typ":7}', good))
    add("duplicate header key", _raw('{"alg":"HS256","typ":"JWT","alg":"none"}', good))
    add("duplicate claim", _raw(h, good[:-1] + ', "role": "admin"}'))
    # Keys named by the token itself (jku, jwk, kid) are never fetched nor believed.
    add("jku header, signed with its key", _raw(
        '{"alg":"HS256","typ":"JWT","jku":"http://127.0.0.1:1/k"}', good, key=WRONG_KEY))
    add("jwk header, signed with it", _raw(
        '{"alg":"HS256","typ":"JWT","jwk":{"kty":"oct","k":"%s"}}' % _b64(WRONG_KEY), good,
        key=WRONG_KEY))
    add("kid path traversal, empty key", _raw(
        '{"alg":"HS256","typ":"JWT","kid":"../../../../dev/null"}', good, key=b""))
    add("header not an object", _raw('["HS256"]', good))
    add("payload not an object", _raw(h, '"just a string"'))
    add("payload not JSON", _raw(h, "{sub:"))
    add("huge token", _raw(h, json.dumps(_claims(role, sub, pad="x" * 9000))))
    return out


def test_forged_token_matrix(ctx):
    s = final_study(ctx.server)
    s.release()
    pem = _public_key_pem()
    targets = [  # (method, path, body, role, sub)
        ("GET", "/api/v1/patient/studies", None, "patient", s.patient_id),
        ("GET", patient_path(s.study_id), None, "patient", s.patient_id),
        ("GET", "/api/v1/physician/worklist", None, "physician", s.physician_id),
        ("POST", physician_path(s.study_id, "hold"), {"reason": "x"}, "physician",
         s.physician_id),
        ("POST", "/api/v1/ingest/events", harness.event(), "ris", "test-ris"),
    ]
    tried = 0
    accepted = []
    classes = set()
    for method, path, body, role, sub in targets:
        for name, tok in forgeries(role, sub, pem):
            classes.add(name)
            for how in ("bearer", "cookie"):
                headers = {"Cookie": "portal_session=" + tok} if how == "cookie" else {}
                tried += 1
                try:
                    r = ctx.server.request(method, path, body=body, headers=headers,
                                           token=tok if how == "bearer" else None)
                except OSError:
                    continue  # refused before the body was sent: the connection was closed
                if r.status not in (401, 431) or "report" in r.body.lower():
                    accepted.append((name, how, method, path, r.status))
    print("# forged tokens: %d classes x %d endpoints x bearer and cookie = %d attempts, %d "
          "accepted" % (len(classes), len(targets), tried, len(accepted)))
    assert not accepted, accepted[:10]
    # And the genuine token for each target is accepted, so the refusals above mean something.
    for method, path, body, role, sub in targets:
        r = ctx.server.request(method, path, body=body, token=ctx.server.token(role, sub))
        assert r.status in (200, 201, 409), (path, r)  # 409: a hold after the release


def test_cross_patient_and_cross_physician_matrix(ctx):
    people = [final_study(ctx.server) for _ in range(6)]
    for p in people[::2]:
        p.release()
    attempts = 0
    leaks = []
    for me in people:
        for other in people:
            if other is me:
                continue
            for method, suffix, body in (("GET", "", None),
                                         ("POST", "/discussion-requests", {"message": "hi"}),
                                         ("PUT", "/preference", {"release": "immediately"})):
                r = ctx.server.request(method, patient_path(other.study_id) + suffix, body=body,
                                       token=me.patient)
                attempts += 1
                if r.status != 404 and not (r.status == 422 and suffix == "/preference"):
                    leaks.append(("patient", suffix, r.status))
                if "Findings" in r.body or other.accession in r.body:
                    leaks.append(("patient body", suffix, r.body[:100]))
            for method, action, body in (("GET", None, None), ("POST", "release", {}),
                                         ("POST", "hold", {"reason": "mine"})):
                r = ctx.server.request(method, physician_path(other.study_id, action), body=body,
                                       token=me.physician)
                attempts += 1
                if r.status != 404:
                    leaks.append(("physician", action, r.status))
        mine = ctx.server.request("GET", "/api/v1/patient/studies", token=me.patient).json()
        attempts += 1
        if [x["id"] for x in mine["studies"]] != [me.study_id]:
            leaks.append(("list", me.study_id))
    # Nothing changed for anyone: the unreleased stay unreleased.
    for p in people[1::2]:
        assert p.as_physician().json()["state"] == "awaiting_review"
    print("# cross-person matrix: %d people, %d attempts on another's study, %d leaks" % (
        len(people), attempts, len(leaks)))
    assert not leaks, leaks[:10]
