/* Schema migrations: sql/migrations/NNNN_name.sql applied in order, each in its own transaction,
 * recorded with a checksum so an edited, already-applied migration is refused; then the changed
 * sql/definitions/NN_name.sql files and sql/grants.sql, together in one transaction. */
#ifndef PORTAL_MIGRATE_H
#define PORTAL_MIGRATE_H

/* Applies pending migrations from dir over conninfo, then the definitions and grants found beside
 * dir (in its parent). Returns 0, or -1 having printed one line naming the problem on stderr. */
__attribute__((warn_unused_result)) int migrate_run(const char *conninfo, const char *dir);

#endif
