#!/usr/bin/env python3
"""Runs every test_* function of tests/integration/test_*.py against one shared throwaway
cluster and portald (tests that need their own start them), then checks that no server printed
a sanitizer report. Prints TAP-like lines and ends with "N passed, N failed".
Usage: run.py [--dir DIR] [substring ...]: the tests of DIR (default this directory; the HL7
suite keeps its own in tests/hl7), only those whose name contains one of the substrings."""
import importlib.util
import glob
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

servers = []
_orig_init = harness.Server.__init__


def _tracking_init(self, *a, **kw):
    servers.append(self)
    _orig_init(self, *a, **kw)


harness.Server.__init__ = _tracking_init


class Context:
    def __init__(self):
        self.cluster = harness.Cluster("shared")
        # The shared server does not sweep: tests that need a sweep run one themselves, and a sweep
        # every minute of its own would race them for the reports they set up. A server that cannot
        # start (its binary not built) must not leave the cluster running.
        try:
            self.server = harness.Server(self.cluster, env={"PORTAL_RELEASE_SWEEP": "0"})
        except BaseException:
            for s in servers:
                s.stop()
            self.cluster.destroy()
            raise


def main():
    args = sys.argv[1:]
    directory = os.path.dirname(os.path.abspath(__file__))
    if len(args) >= 2 and args[0] == "--dir":
        directory = os.path.abspath(args[1])
        sys.path.insert(0, directory)
        args = args[2:]
    wanted = args
    tests = []
    for path in sorted(glob.glob(os.path.join(directory, "test_*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for attr in sorted(dir(mod)):
            if attr.startswith("test_") and callable(getattr(mod, attr)):
                full = "%s.%s" % (name, attr)
                if not wanted or any(w in full for w in wanted):
                    tests.append((full, getattr(mod, attr)))
    passed = failed = 0
    try:
        ctx = Context()
    except Exception as e:  # noqa: BLE001 - reported as the one failure
        print("not ok - the shared cluster and server: %s: %s" % (type(e).__name__, e), flush=True)
        print("0 passed, 1 failed")
        return 1
    try:
        for full, fn in tests:
            t0 = time.time()
            try:
                fn(ctx)
                passed += 1
                print("ok - %s (%.2fs)" % (full, time.time() - t0), flush=True)
            except Exception as e:  # noqa: BLE001 - a test failure of any kind is reported
                failed += 1
                print("not ok - %s: %s" % (full, e), flush=True)
                for line in traceback.format_exc().splitlines()[-8:]:
                    print("#   " + line, flush=True)
    finally:
        for s in servers:
            s.stop()
        ctx.cluster.destroy()
    reports = [(s.log_path, r) for s in servers for r in s.sanitizer_reports()]
    if reports:
        failed += 1
        print("not ok - sanitizers: %d report lines, first in %s: %s" % (len(reports),
              reports[0][0], reports[0][1]))
    else:
        passed += 1
        print("ok - sanitizers: no report in %d server logs" % len(servers))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
