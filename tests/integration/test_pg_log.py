"""PostgreSQL's own log never quotes report text: scripts/pg.sh sets log_error_verbosity = terse,
because a failed constraint's DETAIL line otherwise prints the whole failing row."""
import os
import uuid

import harness


def test_failed_report_row_is_not_quoted_in_postgres_log(ctx):
    marker = "PGLOGMARKER" + uuid.uuid4().hex
    study = ctx.cluster.sql("INSERT INTO portal.physicians (id, name) VALUES ('NPI-LOG', 'Dr Log') "
                            "ON CONFLICT DO NOTHING; "
                            "INSERT INTO portal.patients (mrn, name, birth_date) "
                            "VALUES ('MRN-LOG-%s', 'Log Test', '1980-01-01') RETURNING id"
                            % uuid.uuid4().hex[:8])
    patient_id = study[0][0]
    study_id = ctx.cluster.sql("INSERT INTO portal.studies (accession, patient_id, "
                               "referring_physician_id, modality, description) VALUES "
                               "('ACC-LOG-%s', '%s', 'NPI-LOG', 'CT', 'CT head') RETURNING id"
                               % (uuid.uuid4().hex[:8], patient_id))[0][0]
    try:
        # version 0 breaks the check constraint; the row holds the marker as findings.
        ctx.cluster.sql("INSERT INTO portal.report_versions (study_id, version, status, findings, "
                        "impression, radiologist_name, signed_at, event_id) VALUES "
                        "('%s', 0, 'final', '%s', '%s', 'Dr R', now(), 'log-%s')"
                        % (study_id, marker, marker, uuid.uuid4().hex),
                        url=ctx.cluster.app_url)
        raise AssertionError("the constraint should have refused the row")
    except RuntimeError as e:
        assert "report_versions_version_check" in str(e), e
    with open(os.path.join(ctx.cluster.dir, "postgres.log"), encoding="utf-8", errors="replace") as f:
        log = f.read()
    assert "report_versions_version_check" in log, "the failure should be logged"
    # The server sends values as bind parameters (kept out by log_parameter_max_length*); this
    # psql call inlines them in the statement text, so only the DETAIL line is ours to check.
    details = [l for l in log.splitlines() if "DETAIL:" in l]
    assert not [l for l in details if marker in l], "PostgreSQL's DETAIL line quoted the report text"
