#!/usr/bin/python3
"""A real SMTP server for the notification tests: Debian's python3-aiosmtpd on loopback, with
STARTTLS required and AUTH (PLAIN/LOGIN) checked against one user, storing every accepted message
as a file (envelope and raw bytes) that the tests parse with Python's email package.

Usage: smtp_server.py --port N --dir DIR --cert CERT --key KEY --user U --password P
Recipients starting with "reject" get 550 (a permanent refusal); while the file DIR/../tempfail
exists every message gets 451 (a temporary one). Prints "ready" once it accepts connections and
serves until SIGTERM. Run with /usr/bin/python3 (Debian's packages)."""
import argparse
import json
import os
import signal
import ssl
import threading
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Store:
    def __init__(self, directory):
        self.dir = directory
        self.tempfail = os.path.join(os.path.dirname(os.path.abspath(directory)), "tempfail")

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if os.path.exists(self.tempfail):
            return "451 4.3.0 Try again later"
        name = uuid.uuid4().hex
        tmp = os.path.join(self.dir, "." + name)
        with open(tmp, "wb") as f:
            f.write(json.dumps({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                                "tls": session.ssl is not None,
                                "auth": bool(session.authenticated)}).encode() + b"\n")
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, os.path.join(self.dir, name + ".eml"))
        return "250 2.0.0 Accepted"


def main():
    ap = argparse.ArgumentParser()
    for a in ("--port", "--dir", "--cert", "--key", "--user", "--password"):
        ap.add_argument(a, required=True)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(args.cert, args.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == args.user.encode()
              and auth_data.password == args.password.encode())
        return AuthResult(success=ok, handled=False)

    controller = Controller(Store(args.dir), hostname="127.0.0.1", port=int(args.port),
                            tls_context=tls, require_starttls=True, auth_required=True,
                            auth_require_tls=True, authenticator=authenticator,
                            server_hostname="localhost")
    controller.start()
    print("ready", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    controller.stop()


if __name__ == "__main__":
    main()
