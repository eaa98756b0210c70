"""Findings of the security review (docs/security-review.md), each pinned by a test that fails
without its fix."""
import json

import harness


def _logged_ids(server):
    return [json.loads(l).get("request_id") for l in server.read_log().splitlines()
            if l.startswith("{")]


def test_request_id_is_taken_only_from_a_trusted_proxy(ctx):
    # The request id goes into the audit log (CONTRACT invariant 4). Once trusted proxies are
    # configured, a client talking to portald directly must not choose it: it could make its
    # requests share an id with someone else's.
    direct = harness.Server(ctx.cluster, env={"PORTAL_TRUSTED_PROXIES": "10.9.9.9"})
    try:
        r = direct.request("GET", "/healthz", headers={"X-Request-Id": "forged-by-client"})
        assert r.status == 200, r
        assert r.header("X-Request-Id") not in (None, "forged-by-client"), r.headers
        # Once the request's own line is written, the forged id had its chance to appear.
        assert direct.log_shows('"request_id":"%s"' % r.header("X-Request-Id"))
        assert "forged-by-client" not in _logged_ids(direct)
    finally:
        direct.stop()
    proxied = harness.Server(ctx.cluster, env={"PORTAL_TRUSTED_PROXIES": "127.0.0.1"})
    try:
        r = proxied.request("GET", "/healthz", headers={"X-Request-Id": "from-nginx-1"})
        assert r.header("X-Request-Id") == "from-nginx-1", r.headers
        assert proxied.log_shows('"request_id":"from-nginx-1"')
    finally:
        proxied.stop()
