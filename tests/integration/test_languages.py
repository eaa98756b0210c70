"""Languages (issue 16, docs/languages.md): Accept-Language: es or fr on a patient endpoint answers
every human text in that language with Content-Language set; a kept page is never served in
another language; the patient's saved choice (PUT /api/v1/patient/language, carried by the
portal_lang cookie from sign-in on) wins over Accept-Language; PORTAL_DEFAULT_LANGUAGE answers
those who say nothing."""
import re

import harness
from flows import PATIENT_LIST, Study, final_study, patient_path

LANGUAGE = "/api/v1/patient/language"


def _get(s, path, lang=None, cookie=None):
    h = {}
    if lang:
        h["Accept-Language"] = lang
    if cookie:
        h["Cookie"] = cookie
    return s.as_patient(path=path, headers=h)


def _texts(study):
    """Every human text of a patient's study answer."""
    out = [study["stage_label"], study["stage_explanation"]]
    for e in study.get("estimates", []):
        out += [e["summary"], e["basis"]]
    if "discussion" in study:
        out.append(study["discussion"]["prompt"])
    return out


def _released(ctx):
    s = final_study(ctx.server)
    s.release()
    return s


def test_every_human_text_of_a_study_in_es_and_fr(ctx):
    for s in (_released(ctx), Study(ctx.server, events=("ordered", "arrived", "exam_started"))):
        en = _get(s, patient_path(s.study_id))
        assert en.status == 200 and en.header("Content-Language") == "en", en
        english = _texts(en.json())
        assert all(english), english
        seen = {}
        for lang, header in (("es", "es"), ("fr", "fr-CA,fr;q=0.9,en;q=0.5")):
            r = _get(s, patient_path(s.study_id), header)
            assert r.status == 200, r
            assert r.header("Content-Language") == lang, r.headers
            texts = _texts(r.json())
            assert len(texts) == len(english), (texts, english)
            for t, e in zip(texts, english):
                assert t and t != e, (lang, t, e)
            seen[lang] = texts
            # The data itself is the same in every language.
            a, b = dict(en.json()), dict(r.json())
            for k in ("id", "accession", "stage", "timeline", "report_available"):
                assert a[k] == b[k], k
        assert seen["es"] != seen["fr"]


def test_the_list_and_a_refusal_in_spanish(ctx):
    s = Study(ctx.server, events=("ordered",))
    r = _get(s, PATIENT_LIST, "es")
    assert r.status == 200 and r.header("Content-Language") == "es", r
    assert r.json()["studies"][0]["stage_label"] == "Se ha solicitado su prueba", r.json()
    missing = _get(s, patient_path("00000000-0000-4000-8000-000000000000"), "es")
    assert missing.status == 404, missing
    assert missing.header("Content-Language") == "es", missing.headers
    p = missing.json()
    assert p["title"] == "No encontrado" and p["detail"] == "No existe ese estudio.", p
    fr = _get(s, patient_path("00000000-0000-4000-8000-000000000000"), "fr")
    assert fr.json()["title"] == "Introuvable", fr
    # A language we do not have falls back to the site's default.
    de = _get(s, PATIENT_LIST, "de-DE")
    assert de.header("Content-Language") == "en", de.headers


def test_a_kept_page_is_never_served_in_another_language(ctx):
    s = Study(ctx.server, events=("ordered", "arrived"))
    en1 = _get(s, patient_path(s.study_id))
    en2 = _get(s, patient_path(s.study_id))
    assert en1.body == en2.body  # kept and served again
    es = _get(s, patient_path(s.study_id), "es")
    assert es.header("Content-Language") == "es"
    assert es.json()["stage_label"] != en1.json()["stage_label"], (es, en1)
    es2 = _get(s, patient_path(s.study_id), "es")
    assert es2.body == es.body
    fr = _get(s, patient_path(s.study_id), "fr")
    assert fr.json()["stage_label"] not in (es.json()["stage_label"], en1.json()["stage_label"])
    en3 = _get(s, patient_path(s.study_id))
    assert en3.body == en1.body, (en3, en1)
    for path in (PATIENT_LIST,):
        a, b = _get(s, path), _get(s, path, "fr")
        assert a.json()["studies"][0]["stage_label"] != b.json()["studies"][0]["stage_label"]


def test_the_saved_choice_wins_and_follows_the_patient(ctx):
    s = Study(ctx.server, events=("ordered",))
    r = s.as_patient(path=LANGUAGE)
    assert r.status == 200 and r.json() == {"saved": None, "language": "en"}, r
    bad = s.as_patient("PUT", LANGUAGE, body={"language": "de"})
    assert bad.status == 422 and "language" in bad.json()["detail"], bad
    bad = s.as_patient("PUT", LANGUAGE, body={"language": "fr", "extra": 1})
    assert bad.status == 422, bad
    put = s.as_patient("PUT", LANGUAGE, body={"language": "fr"})
    assert put.status == 200 and put.json() == {"saved": "fr", "language": "fr"}, put
    assert put.header("Content-Language") == "fr", put.headers
    cookie = put.header("Set-Cookie")
    assert re.match(r"^portal_lang=fr; Path=/; Max-Age=\d+; Secure; SameSite=Strict$", cookie), cookie
    assert s.as_patient(path=LANGUAGE).json()["saved"] == "fr"
    # The cookie is the saved choice: it wins over Accept-Language.
    r = _get(s, PATIENT_LIST, "es", cookie="portal_lang=fr")
    assert r.header("Content-Language") == "fr", r.headers
    # Signing in, anywhere, brings the saved choice back as the cookie.
    login = ctx.server.request("POST", "/api/v1/session",
                               body={"access_code": s.access_code, "birth_date": "1985-12-10"})
    assert login.status == 201, login
    cookies = [v for k, v in login.headers if k.lower() == "set-cookie"]
    assert any(c.startswith("portal_lang=fr;") for c in cookies), cookies
    # The public endpoint says what the pages should show.
    pub = ctx.server.request("GET", "/api/v1/language", headers={"Cookie": "portal_lang=es"})
    assert pub.status == 200, pub
    assert pub.json() == {"language": "es", "available": ["en", "es", "fr"], "default": "en"}, pub
    pub = ctx.server.request("GET", "/api/v1/language", headers={"Accept-Language": "fr;q=0.3, en;q=0.2"})
    assert pub.json()["language"] == "fr", pub


def test_the_site_default_answers_those_who_say_nothing(ctx):
    server = harness.Server(ctx.cluster, env={"PORTAL_DEFAULT_LANGUAGE": "es"})
    try:
        s = Study(server, events=("ordered",))
        r = s.as_patient(path=PATIENT_LIST)
        assert r.header("Content-Language") == "es", r.headers
        assert r.json()["studies"][0]["stage_label"] == "Se ha solicitado su prueba", r
        r = s.as_patient(path=PATIENT_LIST, headers={"Accept-Language": "en"})
        assert r.header("Content-Language") == "en", r.headers
        assert server.request("GET", "/api/v1/language").json()["default"] == "es"
    finally:
        server.stop()


def test_a_release_by_policy_is_told_in_the_patients_language(ctx):
    """The releaser of a release by policy is words the SQL stores (40_release.sql), not a name:
    the patient reads them, and the prompt and explanation that go with them, in their language."""
    import uuid
    site = "lang-%s" % uuid.uuid4().hex[:8]
    ctx.cluster.sql("INSERT INTO portal.release_policies (site, modality, mode) "
                    "VALUES ('%s', '*', 'immediate')" % site)
    ev = harness.event("exam_completed")
    ev["study"]["site"] = site
    r = ctx.server.request("POST", "/api/v1/ingest/events", body=ev, token=ctx.server.ris())
    assert r.status in (200, 201), r
    sid, pid = r.json()["study_id"], r.json()["patient_id"]
    r = ctx.server.request("POST", "/api/v1/ingest/reports", token=ctx.server.ris(),
                           body=harness.report(ev["study"]["accession"], status="final"))
    assert r.status in (200, 201), r
    token = harness.Server.token("patient", pid)
    seen = {}
    for lang in ("en", "es", "fr"):
        r = ctx.server.request("GET", patient_path(sid), token=token, headers={"Accept-Language": lang})
        assert r.status == 200 and "report" in r.json(), r
        b = r.json()
        seen[lang] = (b["report"]["released_by"], b["stage_explanation"], b["discussion"]["prompt"])
    assert seen["en"][0] == "Released automatically (site policy)", seen["en"]
    assert seen["es"][0] == "Entregado automáticamente (política del centro)", seen["es"]
    assert seen["fr"][0] == "Transmis automatiquement (règle du site)", seen["fr"]
    for lang in ("es", "fr"):
        assert all(a != b for a, b in zip(seen[lang], seen["en"])), (lang, seen)
