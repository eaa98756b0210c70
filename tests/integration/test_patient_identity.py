"""A patient is an MRN within an assigning authority (issue 13): the JSON API's
`patient.assigning_authority`, the study's site when it is absent, and the upgrade of a database
whose patients were MRNs alone (migration 0007) keeping everyone findable."""
import os
import subprocess
import tarfile
import io
import uuid

import harness
from flows import ago, ingest

# The last commit whose SQL predates patient identity by authority (migrations 0001-0006).
BEFORE_AUTHORITIES = "49e37ba"


def event(mrn, accession, site=None, authority=None, name="Ada Lovelace"):
    body = harness.event("ordered", accession=accession, mrn=mrn, occurred_at=ago(2))
    body["patient"]["name"] = name
    if site:
        body["study"]["site"] = site
    if authority:
        body["patient"]["assigning_authority"] = authority
    return body


def test_same_mrn_at_two_sites_is_two_patients(ctx):
    mrn = "MRN-" + uuid.uuid4().hex[:10]
    a = ingest(ctx.server, event(mrn, "ACC-" + uuid.uuid4().hex[:10], site="main"))
    b = ingest(ctx.server, event(mrn, "ACC-" + uuid.uuid4().hex[:10], site="north"))
    assert a["patient_id"] != b["patient_id"]
    # Naming the authority explicitly finds the patient whatever site the study is at.
    c = ingest(ctx.server, event(mrn, "ACC-" + uuid.uuid4().hex[:10], site="north",
                                 authority="main"))
    assert c["patient_id"] == a["patient_id"]
    rows = ctx.cluster.sql("SELECT assigning_authority FROM portal.patients WHERE mrn = '%s' "
                           "ORDER BY 1" % mrn)
    assert rows == [["main"], ["north"]], rows
    bad = ctx.server.request("POST", "/api/v1/ingest/events", token=ctx.server.ris(),
                             body=event(mrn, "ACC-X", authority="x" * 65))
    assert bad.status == 422 and "patient.assigning_authority" in bad.body, bad


def test_the_audit_log_names_the_sender(ctx):
    acc = "ACC-" + uuid.uuid4().hex[:10]
    ingest(ctx.server, event("MRN-" + uuid.uuid4().hex[:10], acc))
    rows = ctx.cluster.sql("SELECT a.actor_role, a.actor_id, a.action FROM portal.audit_log a "
                           "JOIN portal.studies s ON s.id = a.study_id WHERE s.accession = '%s'"
                           % acc)
    assert rows == [["ris", "test-ris", "ingest.event"]], rows


def old_sql(directory):
    """The sql/ tree as it was before 0007, from git; None when this checkout has no history."""
    out = subprocess.run(["git", "-C", harness.ROOT, "archive", BEFORE_AUTHORITIES, "sql"],
                         capture_output=True)
    if out.returncode != 0:
        return None
    tarfile.open(fileobj=io.BytesIO(out.stdout)).extractall(directory)
    return os.path.join(directory, "sql", "migrations")


def test_upgrade_keeps_every_patient_under_the_site_of_their_first_study(ctx):
    work = os.path.join(harness.TMP, "upgrade-%s" % uuid.uuid4().hex[:8])
    os.makedirs(work)
    migrations = old_sql(work)
    if migrations is None:
        # A checkout without history (a shallow clone) cannot build the old schema; the layout
        # test still applies 0007 to a fresh database.
        print("# git history not available: upgrade from before 0007 not exercised")
        return
    pg_dir = os.path.join(harness.TMP, "pg-upgrade-%s" % uuid.uuid4().hex[:8])
    out = subprocess.run([os.path.join(harness.ROOT, "tests/lib/pg_throwaway.sh"), "start",
                          pg_dir], check=True, capture_output=True, text=True)
    owner_url, app_url = out.stdout.strip().splitlines()
    try:
        env = dict(os.environ, PORTAL_MIGRATE_DATABASE_URL=owner_url)
        old = subprocess.run([harness.PORTALD, "migrate"], capture_output=True, text=True,
                             env=dict(env, PORTAL_MIGRATIONS_DIR=migrations), timeout=120)
        assert old.returncode == 0, old
        seed = """
            INSERT INTO portal.physicians (id, name) VALUES ('DR1', 'Dr One');
            INSERT INTO portal.patients (id, mrn, name, birth_date) VALUES
                ('00000000-0000-4000-8000-000000000001', 'P1', 'One', '1980-01-01'),
                ('00000000-0000-4000-8000-000000000002', 'P2', 'Two', '1980-01-02'),
                ('00000000-0000-4000-8000-000000000003', 'P3', 'Three', '1980-01-03');
            INSERT INTO portal.studies (accession, patient_id, referring_physician_id, modality,
                                        description, site, created_at) VALUES
                ('A1', '00000000-0000-4000-8000-000000000001', 'DR1', 'CT', 'CT', 'north', now() - interval '2 days'),
                ('A2', '00000000-0000-4000-8000-000000000001', 'DR1', 'CT', 'CT', 'main', now()),
                ('A3', '00000000-0000-4000-8000-000000000002', 'DR1', 'CT', 'CT', 'main', now());
        """
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", owner_url, "-c", seed],
                       check=True, capture_output=True)
        new = subprocess.run([harness.PORTALD, "migrate"], capture_output=True, text=True,
                             env=env, timeout=120)
        assert new.returncode == 0, new
        assert "applied 0007_identity_hl7_pacs.sql" in new.stdout, new.stdout
        rows = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-F", "\t", owner_url, "-c",
                               "SELECT mrn, assigning_authority FROM portal.patients ORDER BY mrn"],
                              check=True, capture_output=True, text=True).stdout.splitlines()
        # P1's first study was at north; P3 has none and takes the default site.
        assert rows == ["P1\tnorth", "P2\tmain", "P3\tmain"], rows
    finally:
        subprocess.run([os.path.join(harness.ROOT, "tests/lib/pg_throwaway.sh"), "stop", pg_dir],
                       capture_output=True)
