"""Issue 20, the edges: HTTP framing that a proxy and portald could read differently, slow
clients, the head limit, /metrics, the cookie's name, a failed ingest's transaction. Raw sockets,
so what libmicrohttpd writes is seen byte for byte."""
import concurrent.futures
import json
import socket
import time
import uuid

import harness
from flows import PATIENT_LIST, Study

SESSION = "/api/v1/session"


def _raw(port, data, wait=3.0, addr="127.0.0.1"):
    """Sends data on a new connection and reads until the server closes it or wait seconds pass.
    Returns (bytes received, whether the server closed, seconds taken)."""
    s = socket.create_connection((addr, port))
    s.settimeout(0.2)
    t0 = time.time()
    out = b""
    closed = False
    try:
        s.sendall(data)
        while time.time() - t0 < wait:
            try:
                b = s.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                closed = True
                break
            if not b:
                closed = True
                break
            out += b
    finally:
        s.close()
    return out, closed, time.time() - t0


def _answers(out):
    return out.count(b"HTTP/1.1 ")


def _status(out):
    return int(out.split(b" ", 2)[1]) if out.startswith(b"HTTP/1.1 ") else None


def _problem(out):
    head, _, body = out.partition(b"\r\n\r\n")
    assert b"application/problem+json" in head, out[:400]
    return json.loads(body)


def _post_head(extra):
    return (b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
            extra + b"\r\n")


def test_content_length_with_transfer_encoding_is_refused_and_closed(ctx):
    # Defect 1: framed by the chunks, the bytes after the last chunk were answered as a second
    # request (a smuggling shape, RFC 9112 6.1).
    smuggled = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    out, closed, _ = _raw(ctx.server.port, _post_head(
        b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n") + b"0\r\n\r\n" + smuggled)
    assert _answers(out) == 1, out
    assert _status(out) == 400 and closed, (out, closed)
    assert "not both" in _problem(out)["detail"]


def test_unknown_transfer_coding_is_refused_and_closed(ctx):
    # Defect 1: "xchunked" with a Content-Length got no answer and held the connection.
    out, closed, took = _raw(ctx.server.port, _post_head(
        b"Content-Length: 2\r\nTransfer-Encoding: xchunked\r\n") + b"{}")
    assert _status(out) == 400 and closed and took < 2, (out, closed, took)
    out, closed, took = _raw(ctx.server.port, _post_head(b"Transfer-Encoding: xchunked\r\n") +
                             b"2\r\n{}\r\n0\r\n\r\n")
    assert _status(out) == 501 and closed and took < 2, (out, closed, took)
    assert _answers(out) == 1, out


def test_chunked_body_is_refused_before_its_chunks(ctx):
    # Defect 3: a 100 KB chunk extension got libmicrohttpd's own 500 page, outside our access log.
    # Bodies must come with a Content-Length (nginx always sends one), so no chunk is read.
    big = _post_head(b"Transfer-Encoding: chunked\r\n") + b"2;" + b"a" * 100000 + \
        b"\r\n{}\r\n0\r\n\r\n"
    out, closed, _ = _raw(ctx.server.port, big)
    assert _status(out) == 411 and closed, (out[:300], closed)
    assert b"libmicrohttpd" not in out
    assert _problem(out)["detail"] == "Send the body with a Content-Length."
    assert ctx.server.log_shows('"status":411')


def test_two_content_lengths_are_refused(ctx):
    out, closed, _ = _raw(ctx.server.port, _post_head(
        b"Content-Length: 2\r\nContent-Length: 2\r\n") + b"{}")
    assert _status(out) == 400 and closed and _answers(out) == 1, out


def _head_of(size):
    base = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: "
    return base + b"p" * (size - len(base) - 4) + b"\r\n\r\n"


def test_request_head_limit_is_one_clean_431(ctx):
    # Defect 8: README said ~2.7 KB; a 5.3 KB head was accepted, a few bytes more got no answer.
    # Now: heads up to PORTAL_CONNECTION_MEMORY - 1536 (4096 by default) are served, larger ones
    # that libmicrohttpd hands us get our 431 and a closed connection.
    out, closed, _ = _raw(ctx.server.port, _head_of(4096), wait=1)
    assert _status(out) == 200 and not closed, out[:200]
    # (From ~5,250 to ~5,550 bytes libmicrohttpd 0.9.75 closes without calling us or answering,
    # above that it answers its own 431; nginx refuses both sizes in production: tests/deploy.)
    for size in (4097, 4600, 5000, 5200):
        out, closed, _ = _raw(ctx.server.port, _head_of(size))
        assert _status(out) == 431 and closed and _answers(out) == 1, (size, out[:300])
        assert "larger than 4096 bytes" in _problem(out)["detail"], size


def test_stalled_head_body_and_half_close_meet_their_deadlines(ctx):
    # Defect 4: a head that never completes, a body shorter than its Content-Length and a
    # half-closed client each held a connection for the whole idle timeout (60 s), resetting it
    # with every trickled byte.
    s = harness.Server(ctx.cluster, env={"PORTAL_HEAD_TIMEOUT": "2", "PORTAL_BODY_TIMEOUT": "2",
                                         "PORTAL_IDLE_TIMEOUT": "60"})
    try:
        socks = []
        trickle = socket.create_connection(("127.0.0.1", s.port))
        trickle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        socks.append(("head", trickle))
        body = socket.create_connection(("127.0.0.1", s.port))
        body.sendall(_post_head(b"Content-Length: 100\r\n") + b'{"access_code"')
        socks.append(("body", body))
        half = socket.create_connection(("127.0.0.1", s.port))
        half.sendall(b"GET /healthz HTTP/1.1\r\nHost:")
        half.shutdown(socket.SHUT_WR)
        socks.append(("half-closed", half))
        t0 = time.time()
        closed_at = {}
        for _, so in socks:
            so.settimeout(0.1)
        while len(closed_at) < len(socks) and time.time() - t0 < 8:
            for name, so in socks:
                if name in closed_at:
                    continue
                if name == "head":  # one byte every 0.3 s: the idle timeout never runs out
                    try:
                        so.sendall(b"X")
                    except OSError:
                        closed_at[name] = time.time() - t0
                        continue
                try:
                    if so.recv(4096) == b"":
                        closed_at[name] = time.time() - t0
                except socket.timeout:
                    pass
                except OSError:
                    closed_at[name] = time.time() - t0
            time.sleep(0.2)
        for _, so in socks:
            so.close()
        assert set(closed_at) == {"head", "body", "half-closed"}, closed_at
        assert all(1.5 < t < 4.5 for t in closed_at.values()), closed_at
        # A connection that answered keeps its keep-alive time: not cut at the head deadline.
        keep = socket.create_connection(("127.0.0.1", s.port))
        keep.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        keep.settimeout(5)
        assert keep.recv(4096).startswith(b"HTTP/1.1 200")
        time.sleep(3.5)
        keep.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert keep.recv(4096).startswith(b"HTTP/1.1 200")
        keep.close()
        metrics = s.request("GET", "/metrics").body
        assert "portal_http_deadline_closed_total 3" in metrics, metrics[:2000]
    finally:
        s.stop()


def _closed_by_server(sock):
    """Whether the other end has closed sock (a read that would not block finds the end)."""
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        sock.setblocking(True)


def test_connections_per_address_are_limited_without_a_proxy(ctx):
    # Defect 4: no per-address limit unless configured. Without PORTAL_TRUSTED_PROXIES portald is
    # reached directly, and one address may hold 64 connections.
    # The held connections send nothing, so the head deadline (PORTAL_HEAD_TIMEOUT, 10 s) and the
    # idle timeout (60 s) would close them while a loaded machine is still taking them: give both
    # longer than this test waits.
    s = harness.Server(ctx.cluster, env={"PORTAL_PER_IP_CONNECTIONS": "", "PORTAL_HEAD_TIMEOUT": "120", "PORTAL_IDLE_TIMEOUT": "300"})
    held = []
    try:
        for _ in range(64):
            c = socket.create_connection(("127.0.0.1", s.port))
            held.append(c)
        # The server takes the 64 from its listen queue in its own time (slower on a loaded
        # machine): until it has them all a 65th may still be served; once it has, the 65th is
        # closed unanswered. On a loaded machine one of the 64 can also reach the server after a
        # probe: it is then the 65th and is closed, while each probe after it is served (a local
        # make test saw it: one of the 64 closed by the server, every probe served for 60 s).
        # Such a one is replaced before the next probe, so 64 are held when the probe comes.
        deadline = time.time() + 60
        replaced = 0
        while True:
            time.sleep(0.3)
            dropped = [c for c in held if _closed_by_server(c)]
            for c in dropped:
                held.remove(c)
                c.close()
                held.append(socket.create_connection(("127.0.0.1", s.port)))
            replaced += len(dropped)
            if dropped and time.time() < deadline:
                continue
            out, closed, _ = _raw(s.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", wait=2)
            if (closed and out == b"") or time.time() > deadline:
                break
        assert closed and out == b"", (out, replaced, "held connections replaced after the server closed them")
        # Refused because 64 are held, not because the limit is lower: none of the 64 is closed.
        time.sleep(0.5)
        assert not [c for c in held if _closed_by_server(c)], (replaced, "a held connection closed: the limit is under 64")
        assert "a client address is at PORTAL_PER_IP_CONNECTIONS" in s.read_log()
        # The slot is free once the server's thread has seen the close, which on a loaded
        # machine can take longer than the client's next connect.
        held.pop().close()
        deadline = time.time() + 10
        while True:
            time.sleep(0.1)
            out, closed, _ = _raw(s.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", wait=2)
            if _status(out) == 200 or time.time() > deadline:
                break
        assert _status(out) == 200, out
    finally:
        for c in held:
            c.close()
        s.stop()


def test_session_cookie_name_is_case_sensitive(ctx):
    # Defect 7: RFC 6265 cookie names are case-sensitive; PORTAL_SESSION is another cookie.
    st = Study(ctx.server)
    r = ctx.server.request("POST", SESSION, body={"access_code": st.access_code,
                                                  "birth_date": "1985-12-10"})
    assert r.status == 201, r
    token = r.json()["token"]
    ok = ctx.server.request("GET", PATIENT_LIST, headers={"Cookie": "portal_session=" + token})
    assert ok.status == 200, ok
    for name in ("PORTAL_SESSION", "Portal_Session", "portal_SESSION"):
        r = ctx.server.request("GET", PATIENT_LIST, headers={"Cookie": name + "=" + token})
        assert r.status == 401, (name, r)


def test_metrics_need_the_token_or_this_machine(ctx):
    # Defect 9: /metrics told anyone who reached the port the traffic and overdue counts.
    token = "metrics-scraper-token-" + uuid.uuid4().hex
    s = harness.Server(ctx.cluster, env={"PORTAL_METRICS_TOKEN": token,
                                         "PORTAL_TRUSTED_PROXIES": "127.0.0.1"})
    try:
        assert s.request("GET", "/metrics").status == 403
        assert s.request("GET", "/metrics", token="wrong" + token[5:]).status == 403
        r = s.request("GET", "/metrics", token=token)
        assert r.status == 200 and "portal_http_requests_total" in r.body, r
    finally:
        s.stop()
    s = harness.Server(ctx.cluster, env={"PORTAL_TRUSTED_PROXIES": "127.0.0.1"})
    try:
        assert s.request("GET", "/metrics").status == 200
        far = s.request("GET", "/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert far.status == 403, far
    finally:
        s.stop()


def test_failed_ingest_ends_its_transaction_before_other_work(ctx):
    # Defect 10: a 409 inside the ingest's transaction left it open until the answer had gone
    # out; another request on the same worker then failed BEGIN with 25P02 and got 500.
    s = harness.Server(ctx.cluster, env={"PORTAL_THREADS": "1"})
    try:
        ris = s.ris()
        used = []
        for _ in range(10):
            e = harness.event()
            assert s.request("POST", "/api/v1/ingest/events", body=e, token=ris).status == 200
            used.append(e)

        def one(i):
            if i % 2:
                e = dict(used[i % len(used)], occurred_at="2026-11-21T10:00:00Z")
            else:
                e = harness.event()
            return i % 2, s.request("POST", "/api/v1/ingest/events", body=e, token=ris).status

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            got = list(pool.map(one, range(160)))
        valid = [st for odd, st in got if not odd]
        conflicting = [st for odd, st in got if odd]
        assert valid.count(200) == 80, sorted(set(valid))
        assert conflicting.count(409) == 80, sorted(set(conflicting))
    finally:
        s.stop()
