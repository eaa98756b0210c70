"""Issue 20, defect 6: one set of token rules (docs/security-review.md, "Token rules"), a test
per rule. Each token below is correctly signed with the server's key; only the rule differs."""
import base64
import hashlib
import hmac
import json
import time
import uuid

import harness
from flows import PATIENT_LIST

PATIENT = str(uuid.uuid4())


def _signed(header_json, payload_json):
    """A token from the exact JSON texts given (so duplicates and odd types survive)."""
    signing = harness.b64url(header_json.encode()) + "." + harness.b64url(payload_json.encode())
    sig = hmac.new(harness.SECRET.encode(), signing.encode(), hashlib.sha256).digest()
    return signing + "." + harness.b64url(sig)


def _claims(**over):
    now = int(time.time())
    c = {"sub": PATIENT, "role": "patient", "iss": harness.ISSUER, "aud": harness.AUDIENCE,
         "iat": now, "exp": now + 600}
    c.update(over)
    return json.dumps({k: v for k, v in c.items() if v is not None})


HEAD = '{"alg":"HS256","typ":"JWT"}'


def _status(server, token):
    return server.request("GET", PATIENT_LIST, token=token).status


def test_the_baseline_token_is_accepted(ctx):
    assert _status(ctx.server, _signed(HEAD, _claims())) == 200
    assert _status(ctx.server, _signed('{"alg":"HS256","typ":"jwt","kid":"k1"}', _claims())) == 200


def test_crit_header_is_refused(ctx):
    # RFC 7515 4.1.11: we understand no extension, so any crit is unknown and refused.
    assert _status(ctx.server, _signed('{"alg":"HS256","typ":"JWT","crit":["exp"]}',
                                       _claims())) == 401
    assert _status(ctx.server, _signed('{"alg":"HS256","typ":"JWT","crit":[]}', _claims())) == 401


def test_typ_must_be_jwt(ctx):
    for head in ('{"alg":"HS256"}', '{"alg":"HS256","typ":1}', '{"alg":"HS256","typ":null}',
                 '{"alg":"HS256","typ":"JWS"}', '{"alg":"HS256","typ":"at+jwt"}', '{"alg":"HS256","typ":["JWT"]}'):
        assert _status(ctx.server, _signed(head, _claims())) == 401, head


def test_duplicate_names_are_refused_in_header_and_payload(ctx):
    assert _status(ctx.server, _signed('{"alg":"HS256","typ":"JWT","typ":"JWT"}',
                                       _claims())) == 401
    other = str(uuid.uuid4())
    dup = _claims()[:-1] + ', "sub": "%s"}' % other
    assert _status(ctx.server, _signed(HEAD, dup)) == 401
    dup_exp = _claims()[:-1] + ', "exp": %d}' % (int(time.time()) + 100000)
    assert _status(ctx.server, _signed(HEAD, dup_exp)) == 401


def test_time_claims_must_be_numbers(ctx):
    now = int(time.time())
    for claim, value in (("nbf", str(now + 3600)), ("nbf", str(now - 10)), ("iat", str(now)),
                         ("exp", str(now + 600)), ("nbf", None), ("exp", True)):
        if value is None:
            payload = _claims()[:-1] + ', "%s": null}' % claim
        else:
            payload = _claims(**{claim: value})
        assert _status(ctx.server, _signed(HEAD, payload)) == 401, (claim, value)
    assert _status(ctx.server, _signed(HEAD, _claims(nbf=now - 10))) == 200
    assert _status(ctx.server, _signed(HEAD, _claims(nbf=now + 3600))) == 401
    assert _status(ctx.server, _signed(HEAD, _claims(exp=now + 600.5))) == 200


def test_claims_of_the_wrong_type_are_refused(ctx):
    for over in ({"aud": [harness.AUDIENCE, 7]}, {"iss": [harness.ISSUER]}, {"sub": 42},
                 {"role": ["patient"]}, {"exp": None}):
        assert _status(ctx.server, _signed(HEAD, _claims(**over))) == 401, over


def test_header_and_payload_must_be_objects(ctx):
    assert _status(ctx.server, _signed('["HS256"]', _claims())) == 401
    assert _status(ctx.server, _signed(HEAD, '["not", "an", "object"]')) == 401
