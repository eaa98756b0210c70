"""`portald migrate` and the SQL layout (server/migrate.c): migrations, then sql/definitions/
re-applied when a file changes, then sql/grants.sql on every run, definitions and grants in one
transaction; databases migrated before the functions moved out of 0001-0006 keep working."""
import os
import shutil
import subprocess
import uuid

import harness

_cluster = None

# What databases migrated up to commit 801e334 record for the migrations that then also created
# the functions, triggers, views and grants (sha256 of `git show 801e334:sql/migrations/<file>`).
# server/migrate.c accepts exactly these for these names; 0005 did not change.
PRE_DEFINITIONS = {
    "0001": "203086d43525f9a6a5f27d6d58569fd99929118f5810d8c5a05c66d890fd8002",
    "0002": "45f7ead4b53c326359afd881c5f496c7ea9ba9894f42fa58524de1ebf816bd28",
    "0003": "d183e0488b654f6b82c15b4dbde37aa4db1aad95e7c73106a6c48ad91480c029",
    "0004": "c65e0282543383e957708fd205e1a4090d91483072c63a3a64451803a158c8ce",
    "0006": "c8eb49903bd6594d25e0130bada66646699c566377af205773423460c2157383",
}


def cluster():
    """A cluster of this file's own (the tests change what is recorded), made on first use."""
    global _cluster
    if _cluster is None:
        _cluster = harness.Cluster("migrate")
        import atexit
        atexit.register(_cluster.destroy)
    return _cluster


def migrate(c, migrations_dir=None):
    env = dict(os.environ, PORTAL_MIGRATE_DATABASE_URL=c.owner_url)
    if migrations_dir:
        env["PORTAL_MIGRATIONS_DIR"] = migrations_dir
    return subprocess.run([harness.PORTALD, "migrate"], env=env, capture_output=True, text=True,
                          cwd=harness.ROOT, timeout=120)


def sql_copy():
    """A copy of sql/ (migrations, definitions, grants.sql) to edit; returns its directory."""
    d = os.path.join(harness.TMP, "sql-%s" % uuid.uuid4().hex[:8])
    shutil.copytree(os.path.join(harness.ROOT, "sql"), d)
    return d


def test_migrate_accepts_the_checksums_recorded_before_definitions_moved_out(ctx):
    c = cluster()
    current = dict(c.sql("SELECT version, checksum FROM schema_migrations"))
    try:
        for version, checksum in PRE_DEFINITIONS.items():
            assert current[version] != checksum, version
            c.sql("UPDATE schema_migrations SET checksum = '%s' WHERE version = '%s'"
                  % (checksum, version))
        out = migrate(c)
        assert out.returncode == 0, out
        files = len([f for f in os.listdir(os.path.join(harness.ROOT, "sql", "migrations"))
                     if f.endswith(".sql")])
        assert "migrate: 0 applied, %d up to date" % files in out.stdout, out.stdout
        # Only for its own file: 0003's old checksum recorded for 0002 is an edit.
        c.sql("UPDATE schema_migrations SET checksum = '%s' WHERE version = '0002'"
              % PRE_DEFINITIONS["0003"])
        out = migrate(c)
        assert out.returncode == 1, out
        assert "0002_flows.sql was edited after it was applied" in out.stderr, out.stderr
        # And any other checksum is refused as before.
        c.sql("UPDATE schema_migrations SET checksum = repeat('0', 64) WHERE version = '0004'")
        c.sql("UPDATE schema_migrations SET checksum = '%s' WHERE version = '0002'"
              % PRE_DEFINITIONS["0002"])
        out = migrate(c)
        assert out.returncode == 1, out
        assert "0004_release_policies.sql was edited after it was applied" in out.stderr, out.stderr
    finally:
        for version, checksum in current.items():
            c.sql("UPDATE schema_migrations SET checksum = '%s' WHERE version = '%s'"
                  % (checksum, version))
    assert migrate(c).returncode == 0


def test_definitions_are_applied_again_only_when_changed(ctx):
    c = cluster()
    d = sql_copy()
    try:
        out = migrate(c, os.path.join(d, "migrations"))
        assert out.returncode == 0, out
        # Counted, not written down: a new definitions file (25_pacs.sql, ...) changes it.
        files = len([f for f in os.listdir(os.path.join(d, "definitions")) if f.endswith(".sql")])
        assert "definitions 0 applied, %d up to date" % files in out.stdout, out.stdout
        with open(os.path.join(d, "definitions", "80_login.sql"), "a") as f:
            f.write("\n-- changed\n")
        out = migrate(c, os.path.join(d, "migrations"))
        assert out.returncode == 0, out
        assert "migrate: applied definitions/80_login.sql" in out.stdout, out.stdout
        assert "definitions 1 applied, %d up to date" % (files - 1) in out.stdout, out.stdout
    finally:
        shutil.rmtree(d)
    # Back to the repository's files: 80_login.sql changed again (back), so it is applied again.
    out = migrate(c)
    assert out.returncode == 0 and "definitions 1 applied" in out.stdout, out


def test_a_failing_definitions_file_is_named_and_changes_nothing(ctx):
    c = cluster()
    d = sql_copy()
    before = c.sql("SELECT name, checksum FROM schema_definitions ORDER BY name")
    try:
        # 80_login.sql would change login_locked (applied first); 90_pages.sql then fails.
        path = os.path.join(d, "definitions", "80_login.sql")
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace("locked_until > now()", "locked_until > now() OR true"))
        with open(os.path.join(d, "definitions", "90_pages.sql"), "a") as f:
            f.write("\nCREATE OR REPLACE FUNCTION portal.broken() RETURNS int LANGUAGE sql AS 'SELECT';\n")
        out = migrate(c, os.path.join(d, "migrations"))
        assert out.returncode == 1, out
        assert "migrate: definitions/90_pages.sql failed:" in out.stderr, out.stderr
        assert "left as they were" in out.stderr, out.stderr
        assert c.sql("SELECT portal.login_locked(ARRAY['nobody'])") == [["f"]], \
            "80_login.sql's change was rolled back"
        assert c.sql("SELECT name, checksum FROM schema_definitions ORDER BY name") == before
    finally:
        shutil.rmtree(d)
    assert migrate(c).returncode == 0


def test_grants_converge_on_every_run(ctx):
    c = cluster()
    c.sql("GRANT INSERT ON portal.releases TO portal_app")
    c.sql("GRANT EXECUTE ON FUNCTION portal.release_due_unlocked(integer, text) TO PUBLIC")
    c.sql("GRANT UPDATE (released_version) ON portal.studies TO portal_app")
    out = migrate(c)
    assert out.returncode == 0 and "0 applied" in out.stdout, out
    assert "privileges set from grants.sql" in out.stdout, out.stdout
    assert c.sql("SELECT has_table_privilege('portal_app', 'portal.releases', 'INSERT'), "
                 "has_function_privilege('portal_app', 'portal.release_due_unlocked(integer, text)', "
                 "'EXECUTE'), has_column_privilege('portal_app', 'portal.studies', "
                 "'released_version', 'UPDATE')") == [["f", "f", "f"]]


def test_migrate_needs_the_definitions_beside_the_migrations(ctx):
    c = cluster()
    d = sql_copy()
    try:
        shutil.rmtree(os.path.join(d, "definitions"))
        out = migrate(c, os.path.join(d, "migrations"))
        assert out.returncode == 1, out
        assert "cannot open definitions directory %s/definitions" % d in out.stderr, out.stderr
    finally:
        shutil.rmtree(d)
