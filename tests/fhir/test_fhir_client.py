"""A FHIR client nobody here wrote (fhir-kit-client) walks a patient's reports through the
server's own paging and reads, before and after release, and is refused another patient's."""
import json
import os
import subprocess

import flows
from fhirlib import BASE, HERE, assert_no_markers, report_text, validate


class _Seen:
    """A client answer in the shape assert_no_markers scans."""

    def __init__(self, obj):
        self.body = json.dumps(obj)
        self.headers = []


def _walk(srv, tok, page_size, *foreign):
    out = subprocess.run(["node", os.path.join(HERE, "client.mjs"),
                          "http://127.0.0.1:%d%s" % (srv.port, BASE), tok, str(page_size)] +
                         list(foreign), cwd=HERE, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout)
    for doc in [got["capability"]] + got["pages"] + got["reads"]:
        validate(doc)
    return got


def test_fhir_kit_client_walks_the_story(ctx):
    srv = ctx.server
    physician = "NPI-C-" + flows.marker("P")[3:15]
    mrn = "MRN-C-" + flows.marker("M")[3:15]
    markers = [flows.marker("F%d" % k) for k in range(3)]
    studies = [flows.final_study(srv, physician_id=physician, mrn=mrn, findings=m)
               for m in markers]
    stranger = flows.final_study(srv)
    stranger.release()

    before = _walk(srv, studies[0].patient, 2, stranger.study_id + "-1")
    assert before["reads"] == [] and sum(len(p.get("entry", [])) for p in before["pages"]) == 0
    assert_no_markers([_Seen(before)], markers)
    assert [f["status"] for f in before["foreign"]] == [404]

    for s in studies[:2]:
        s.release()
    after = _walk(srv, studies[0].patient, 1, stranger.study_id + "-1")
    assert len(after["pages"]) == 2, [p.get("link") for p in after["pages"]]
    texts = {r["id"]: report_text(r)[1] for r in after["reads"]}
    assert sorted(texts) == sorted(s.study_id + "-1" for s in studies[:2])
    for s, m in zip(studies[:2], markers[:2]):
        assert m in texts[s.study_id + "-1"]
    assert_no_markers([_Seen(after)], [markers[2]])
    assert [f["status"] for f in after["foreign"]] == [404]
