#!/usr/bin/env python3
"""Writes the pgbench script for the database ceiling: the detail endpoint's SQL exactly as
server/queries.c has it (read through print_query, never copied), run for a random one of K bench
(patient, study) pairs. pgbench's \\set only makes numbers, so each pair's ids are -D string
variables and a \\if chain picks one; every branch sends the same statement text with $1 the
patient, $2 the study, $3 a request id and $4 a client address, as h_patient_study binds them.
Usage: pgbench_script.py QUERY_LINE_FILE TOKENS_FILE K SCRIPT_OUT DEFINES_OUT
QUERY_LINE_FILE holds print_query's "NPARAMS SQL"; DEFINES_OUT gets one -Dname=value a line."""
import random
import re
import sys

# What h_patient_study binds to each parameter, by position.
PARAMS = {1: "pat", 2: "study", 3: "rid", 4: "addr"}


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    qfile, tokens, k, script_out, defines_out = sys.argv[1:]
    k = int(k)
    nparams, sql = open(qfile).read().strip().split(" ", 1)
    if int(nparams) != len(PARAMS):
        sys.exit("pgbench_script: the detail statement now takes %s parameters; teach "
                 "tests/bench/pgbench_script.py what h_patient_study binds to each" % nparams)
    pairs = []
    for line in open(tokens).read().splitlines():
        token, studies = line.split("\t")[:2]
        patient = decode_sub(token)
        for study in studies.split(","):
            pairs.append((patient, study))
    random.shuffle(pairs)
    pairs = pairs[:k]
    defines = ["-Drid=bench-pgbench", "-Daddr=127.0.0.1"]
    lines = ["\\set k random(0, %d)" % (len(pairs) - 1)]
    for i, (patient, study) in enumerate(pairs):
        defines += ["-Dpat%d=%s" % (i, patient), "-Dstudy%d=%s" % (i, study)]

        def var(m, i=i):
            name = PARAMS[int(m.group(1))]
            return ":" + name + (str(i) if name in ("pat", "study") else "")

        lines.append(("\\if" if i == 0 else "\\elif") + " :k = %d" % i)
        lines.append(re.sub(r"\$(\d+)\b", var, sql) + ";")
    lines.append("\\endif")
    open(script_out, "w").write("\n".join(lines) + "\n")
    open(defines_out, "w").write("\n".join(defines) + "\n")


def decode_sub(token):
    import base64
    import json
    body = token.split(".")[1]
    body += "=" * (-len(body) % 4)
    return json.loads(base64.urlsafe_b64decode(body))["sub"]


if __name__ == "__main__":
    main()
