#!/usr/bin/env python3
"""Opens N keep-alive connections to HOST:PORT, makes one request on each (a patient's study
detail with a bench token, as a patient who opened the page would), reads every answer, then
prints "ready N" and keeps them all open and idle until stdin closes. Answers other than 200 are
counted and reported ("ready N failed F").
Usage: idle_conns.py HOST PORT N TOKENS_FILE"""
import resource
import selectors
import socket
import sys


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    host, port, n, tokens = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 1024), hard))
    lines = [l.split("\t") for l in open(tokens).read().splitlines() if l]
    sel = selectors.DefaultSelector()
    socks = []
    pending = {}
    failed = 0
    # Opened in batches so the listen backlog never overflows.
    for start in range(0, n, 500):
        for i in range(start, min(n, start + 500)):
            token, studies = lines[i % len(lines)][0], lines[i % len(lines)][1].split(",")
            s = socket.create_connection((host, port))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            req = ("GET /api/v1/patient/studies/%s HTTP/1.1\r\nHost: %s:%d\r\n"
                   "Authorization: Bearer %s\r\n\r\n" % (studies[i % len(studies)], host, port,
                                                         token))
            s.sendall(req.encode())
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
            pending[s] = b""
            socks.append(s)
        while pending:
            for key, _ in sel.select(timeout=30):
                s = key.fileobj
                data = s.recv(65536)
                buf = pending[s] + data
                head, sep, body = buf.partition(b"\r\n\r\n")
                done = False
                if sep:
                    length = 0
                    for h in head.split(b"\r\n")[1:]:
                        k, _, v = h.partition(b":")
                        if k.strip().lower() == b"content-length":
                            length = int(v)
                    done = len(body) >= length
                if not data or done:
                    if not head.startswith(b"HTTP/1.1 200"):
                        failed += 1
                    sel.unregister(s)
                    del pending[s]
                else:
                    pending[s] = buf
    print("ready %d failed %d" % (len(socks), failed), flush=True)
    sys.stdin.read()
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
