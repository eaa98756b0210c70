"""Identity (CONTRACT "Identity"): every refused token case answers 401 (403 for a role that does
not fit the endpoint), and valid HS256, RS256 and ES256 tokens are accepted. The algorithm is
pinned by configuration, never taken from the token's header."""
import base64
import hashlib
import json
import os
import subprocess
import tempfile
import time
import uuid

import harness

LIST = "/api/v1/patient/studies"
REFUSED = "The token is invalid or has expired; sign in again."


def _patient_sub():
    return str(uuid.uuid4())


def _refused(server, token, path=LIST):
    r = server.request("GET", path, token=token)
    assert r.status == 401, r
    assert r.header("WWW-Authenticate") == "Bearer", r.headers
    assert r.header("Content-Type") == "application/problem+json", r.headers
    return r


def _accepted(server, token):
    r = server.request("GET", LIST, token=token)
    assert r.status == 200 and r.json() == {"studies": []}, r
    return r


def test_valid_hs256_token_is_accepted(ctx):
    _accepted(ctx.server, harness.jwt(sub=_patient_sub()))


def test_no_token_is_401(ctx):
    r = ctx.server.request("GET", LIST)
    assert r.status == 401, r
    assert r.json()["detail"] == "This endpoint needs a token; sign in first.", r


def test_non_bearer_authorization_is_401(ctx):
    r = ctx.server.request("GET", LIST, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert r.status == 401, r


def test_garbage_tokens_are_401(ctx):
    for token in ("garbage", "a.b.c", "...", "eyJhbGciOiJIUzI1NiJ9..",
                  harness.jwt(sub=_patient_sub())[:-5]):
        r = _refused(ctx.server, token)
        assert r.json()["detail"] == REFUSED, r
    # A token beyond TOKEN_MAX_BYTES makes the request head larger than libmicrohttpd's
    # per-connection pool holds (PORTAL_CONNECTION_MEMORY): its own 431.
    r = ctx.server.request("GET", LIST, token="x" * 9000)
    assert r.status in (401, 431), r


def test_connection_memory_sets_the_request_head_limit(ctx):
    # A 7 KB token is over what the default pool holds and within a 16 KiB pool.
    big = "y" * 7000
    assert ctx.server.request("GET", LIST, token=big).status == 431
    server = harness.Server(ctx.cluster, env={"PORTAL_CONNECTION_MEMORY": "16384"})
    try:
        r = server.request("GET", LIST, token=big)
        assert r.status == 401 and r.json()["detail"] == REFUSED, r
    finally:
        server.stop()


def test_wrong_hs256_key_is_401(ctx):
    _refused(ctx.server, harness.jwt(sub=_patient_sub(), key="another-secret-0123456789abcdefXYZ"))


def test_alg_none_is_401(ctx):
    _refused(ctx.server, harness.jwt(sub=_patient_sub(), alg="none"))
    # "none" spelled otherwise, and a signature attached anyway.
    for alg in ("None", "NONE", "nOnE"):
        _refused(ctx.server, harness.jwt(sub=_patient_sub(), alg="none",
                                         header={"alg": alg, "typ": "JWT"}))
    signed = harness.jwt(sub=_patient_sub())
    head = harness.b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    _refused(ctx.server, head + signed[signed.index("."):])


def test_expired_token_is_401(ctx):
    now = int(time.time())
    _refused(ctx.server, harness.jwt(sub=_patient_sub(), iat=now - 3600, exp=now - 120))


def test_missing_exp_is_401(ctx):
    _refused(ctx.server, harness.jwt(sub=_patient_sub(), exp=None))


def test_future_nbf_is_401(ctx):
    _refused(ctx.server, harness.jwt(sub=_patient_sub(), nbf=int(time.time()) + 600))
    # Within the leeway a small clock skew is tolerated.
    _accepted(ctx.server, harness.jwt(sub=_patient_sub(), nbf=int(time.time()) + 5))


def test_wrong_or_missing_issuer_is_401(ctx):
    _refused(ctx.server, harness.jwt(sub=_patient_sub(), iss="someone-else"))
    _refused(ctx.server, harness.jwt(sub=_patient_sub(), iss=None))


def test_wrong_audience_is_401_in_both_forms(ctx):
    _refused(ctx.server, harness.jwt(sub=_patient_sub(), aud="another-aud"))
    _refused(ctx.server, harness.jwt(sub=_patient_sub(), aud=["another-aud", "x"]))
    _refused(ctx.server, harness.jwt(sub=_patient_sub(), aud=[]))
    _refused(ctx.server, harness.jwt(sub=_patient_sub(), aud=None))


def test_matching_audience_array_is_accepted(ctx):
    _accepted(ctx.server, harness.jwt(sub=_patient_sub(), aud=["other", harness.AUDIENCE]))


def test_unknown_role_or_no_sub_is_401(ctx):
    _refused(ctx.server, harness.jwt(sub=_patient_sub(), role="superuser"))
    _refused(ctx.server, harness.jwt(sub=_patient_sub(), role="Patient"))
    _refused(ctx.server, harness.jwt(sub=_patient_sub(), role=None))
    _refused(ctx.server, harness.jwt(sub=None))


def test_patient_sub_not_uuid_is_401(ctx):
    _refused(ctx.server, harness.jwt(sub="MRN001"))
    _refused(ctx.server, harness.jwt(sub="' OR 1=1 --"))


def test_wrong_role_is_403(ctx):
    s = ctx.server
    cases = [
        ("GET", LIST, None, s.token("physician", "NPI-X")),
        ("GET", LIST, None, s.token("ris", "test-ris")),
        ("GET", "/api/v1/physician/worklist", None, s.token("patient", _patient_sub())),
        ("GET", "/api/v1/physician/discussion-requests", None, s.token("ris", "test-ris")),
        ("POST", "/api/v1/ingest/events", harness.event(), s.token("patient", _patient_sub())),
        ("POST", "/api/v1/ingest/reports", harness.report("ACC-none"),
         s.token("physician", "NPI-X")),
        ("POST", "/api/v1/physician/studies/%s/release" % uuid.uuid4(), {},
         s.token("patient", _patient_sub())),
        ("POST", "/api/v1/patient/studies/%s/discussion-requests" % uuid.uuid4(), {},
         s.token("physician", "NPI-X")),
    ]
    for method, path, body, token in cases:
        r = s.request(method, path, body=body, token=token)
        assert r.status == 403, (method, path, r)
        assert r.json()["detail"].endswith("role may not use this endpoint."), r


# ---- public-key algorithms -------------------------------------------------------------------

def _openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


def _keys(tmp, kind):
    priv = os.path.join(tmp, kind + ".key")
    pub = os.path.join(tmp, kind + ".pub")
    if kind.startswith("rsa"):
        _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", priv)
    else:
        _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                 priv)
    _openssl("pkey", "-in", priv, "-pubout", "-out", pub)
    return priv, pub


def _der_to_raw(der):
    """An ECDSA DER signature (SEQUENCE of two INTEGERs) as JWS wants it: r || s, 32 bytes each."""
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        v = der[i + 2:i + 2 + n].lstrip(b"\x00")
        out += v.rjust(32, b"\x00")
        i += 2 + n
    return out


def _sign(alg, priv, claims):
    now = int(time.time())
    body = {"role": "patient", "iss": harness.ISSUER, "aud": harness.AUDIENCE, "iat": now,
            "exp": now + 600}
    body.update(claims)
    signing = (harness.b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode()) + "." +
               harness.b64url(json.dumps(body).encode()))
    with tempfile.NamedTemporaryFile(dir=harness.TMP) as f:
        f.write(signing.encode())
        f.flush()
        sig = _openssl("dgst", "-sha256", "-sign", priv, f.name)
    if alg == "ES256":
        sig = _der_to_raw(sig)
        assert len(sig) == 64
    return signing + "." + harness.b64url(sig)


def _hs256_with(key_bytes, sub):
    now = int(time.time())
    body = {"sub": sub, "role": "patient", "iss": harness.ISSUER, "aud": harness.AUDIENCE,
            "iat": now, "exp": now + 600}
    signing = (harness.b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." +
               harness.b64url(json.dumps(body).encode()))
    import hmac
    return signing + "." + harness.b64url(hmac.new(key_bytes, signing.encode(),
                                                   hashlib.sha256).digest())


def test_rs256_server_refuses_hs256_signed_with_public_key(ctx):
    tmp = tempfile.mkdtemp(dir=harness.TMP)
    priv, pub = _keys(tmp, "rsa")
    other_priv, _ = _keys(tmp, "rsa-other")
    ec_priv, _ = _keys(tmp, "ec")
    server = harness.Server(ctx.cluster, env={"PORTAL_JWT_ALG": "RS256",
                                              "PORTAL_JWT_PUBLIC_KEY_FILE": pub})
    try:
        _accepted(server, _sign("RS256", priv, {"sub": _patient_sub()}))
        pem = open(pub, "rb").read()
        # The classic confusion attack: our public key used as an HMAC secret, with and without
        # the PEM's trailing newline.
        _refused(server, _hs256_with(pem, _patient_sub()))
        _refused(server, _hs256_with(pem.strip(), _patient_sub()))
        _refused(server, _sign("RS256", other_priv, {"sub": _patient_sub()}))
        _refused(server, _sign("ES256", ec_priv, {"sub": _patient_sub()}))
        _refused(server, _sign("RS256", priv, {"sub": _patient_sub(),
                                                "exp": int(time.time()) - 100}))
        _refused(server, _sign("RS256", priv, {"sub": _patient_sub(), "iss": "evil"}))
        # The HS256 secret is configured too, so the portal's own tokens still work.
        _accepted(server, harness.jwt(sub=_patient_sub()))
    finally:
        server.stop()


def test_es256_server_accepts_es256(ctx):
    tmp = tempfile.mkdtemp(dir=harness.TMP)
    priv, pub = _keys(tmp, "ec")
    other_priv, _ = _keys(tmp, "ec-other")
    rsa_priv, _ = _keys(tmp, "rsa")
    server = harness.Server(ctx.cluster, env={"PORTAL_JWT_ALG": "ES256",
                                              "PORTAL_JWT_PUBLIC_KEY_FILE": pub})
    try:
        _accepted(server, _sign("ES256", priv, {"sub": _patient_sub()}))
        _refused(server, _sign("ES256", other_priv, {"sub": _patient_sub()}))
        _refused(server, _sign("RS256", rsa_priv, {"sub": _patient_sub()}))
        _refused(server, _hs256_with(open(pub, "rb").read(), _patient_sub()))
        # A DER signature where JWS wants raw r||s.
        tok = _sign("ES256", priv, {"sub": _patient_sub()})
        signing = tok.rsplit(".", 1)[0]
        with tempfile.NamedTemporaryFile(dir=harness.TMP) as f:
            f.write(signing.encode())
            f.flush()
            der = _openssl("dgst", "-sha256", "-sign", priv, f.name)
        _refused(server, signing + "." + harness.b64url(der))
    finally:
        server.stop()


def test_base64_of_header_is_not_trusted(ctx):
    # A header that is not JSON, or names an algorithm we do not hold.
    body = harness.jwt(sub=_patient_sub()).split(".", 1)[1]
    for head in (b"not json", b'{"alg":"HS512"}', b'{"alg":"RS256"}', b'{"alg":"ES256"}',
                 b'{"typ":"JWT"}', b'{"alg":1}'):
        _refused(ctx.server, base64.urlsafe_b64encode(head).rstrip(b"=").decode() + "." + body)


def test_key_of_the_wrong_kind_stops_startup(ctx):
    tmp = tempfile.mkdtemp(dir=harness.TMP)
    _, ec_pub = _keys(tmp, "ec")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update({"PORTAL_DATABASE_URL": ctx.cluster.app_url, "PORTAL_JWT_ALG": "RS256",
                "PORTAL_JWT_PUBLIC_KEY_FILE": ec_pub})
    out = subprocess.run([harness.PORTALD, "serve"], env=env, capture_output=True, text=True,
                         timeout=20)
    assert out.returncode == 1, out
    assert out.stderr.strip() == ("portald: PORTAL_JWT_PUBLIC_KEY_FILE must hold an RSA public "
                                  "key for RS256"), out.stderr
