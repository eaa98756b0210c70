#!/usr/bin/env python3
"""Writes the pgbench scripts for the database ceiling: the detail endpoint's SQL exactly as
server/queries.c has it (read through print_query, never copied), bound as h_patient_study binds
it: $1 the patient, $2 the study, $3 a request id, $4 a client address.

pgbench's \\set makes only numbers, so the ids come in as -D string variables. Each of K scripts
holds the one statement for one (patient, study) pair, so each is one prepared statement that, like
the server's, runs often enough for PostgreSQL's plan cache to settle (a \\if chain over many pairs
would leave every branch re-planned on each run). A quarter of the pairs are released studies,
whose read goes through the gate function and writes an audit row, as in the portal's detail load.
With NAME "stamp", the statement is the page-stamp read (page_stamp in queries.c, $1 the patient)
that a kept page costs the server instead of the detail statement, for the same K patients.
Usage: pgbench_script.py QUERY_LINE_FILE TOKENS_FILE K OUT_DIR [NAME]
Writes OUT_DIR/NAME-N.sql and OUT_DIR/args (NAME "detail", the default) or OUT_DIR/NAME.args:
pgbench arguments, one a line."""
import base64
import json
import os
import random
import re
import sys

# What h_patient_study binds to each parameter of each statement, by position.
PARAMS = {"detail": {1: "pat", 2: "study", 3: "rid", 4: "addr"}, "stamp": {1: "pat"}}


def decode_sub(token):
    body = token.split(".")[1]
    body += "=" * (-len(body) % 4)
    return json.loads(base64.urlsafe_b64decode(body))["sub"]


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__)
    qfile, tokens, k, out_dir = sys.argv[1:5]
    name = sys.argv[5] if len(sys.argv) == 6 else "detail"
    params = PARAMS[name]
    k = int(k)
    nparams, sql = open(qfile).read().strip().split(" ", 1)
    if int(nparams) != len(params):
        sys.exit("pgbench_script: the %s statement now takes %s parameters; teach "
                 "tests/bench/pgbench_script.py what h_patient_study binds to each"
                 % (name, nparams))
    unreleased, released = [], []
    for line in open(tokens).read().splitlines():
        token, studies, rel = (line.split("\t") + [""])[:3]
        patient = decode_sub(token)
        rel = set(filter(None, rel.split(",")))
        for study in studies.split(","):
            (released if study in rel else unreleased).append((patient, study))
    random.shuffle(unreleased)
    random.shuffle(released)
    n_rel = min(len(released), max(1, k // 4))
    pairs = released[:n_rel] + unreleased[:k - n_rel]
    args = ["-Drid=bench-pgbench", "-Daddr=127.0.0.1"]
    os.makedirs(out_dir, exist_ok=True)
    for i, (patient, study) in enumerate(pairs):
        args += ["-Dpat%d=%s" % (i, patient), "-Dstudy%d=%s" % (i, study)]

        def var(m, i=i):
            param = params[int(m.group(1))]
            return ":" + param + (str(i) if param in ("pat", "study") else "")

        path = os.path.join(out_dir, "%s-%d.sql" % (name, i))
        with open(path, "w") as f:
            f.write(re.sub(r"\$(\d+)\b", var, sql) + ";\n")
        args.append("-f%s@1" % path)
    with open(os.path.join(out_dir, "args" if name == "detail" else name + ".args"), "w") as f:
        f.write("\n".join(args) + "\n")


if __name__ == "__main__":
    main()
