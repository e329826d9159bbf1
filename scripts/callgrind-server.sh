#!/bin/sh
# Runs the spindle binary named by $CG_BIN under valgrind's callgrind, writing one
# instruction-count file per process into $CG_OUT. Give it to `spindle-bench` as
# `--server-bin` to count the server's instructions over a benchmark run: the counts do not
# depend on what else the machine is doing, so two builds can be compared on a busy machine.
#   CG_BIN=target/release/spindle CG_OUT=/tmp/cg spindle-bench ingest --server-bin scripts/callgrind-server.sh ...
#   grep -h '^totals' /tmp/cg/cg.*
exec valgrind --tool=callgrind --callgrind-out-file="$CG_OUT/cg.%p" "$CG_BIN" "$@"
