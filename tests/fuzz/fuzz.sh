#!/bin/sh
# Runs the fuzz targets that tests/fuzz/fuzz.mk built.
#
#   fuzz.sh replay SECONDS BUILD STAGE/TARGET...
#       each target runs its seeds and corpus, then fuzzes for SECONDS;
#       what it finds is thrown away (make test)
#   fuzz.sh grow SECONDS BUILD STAGE/TARGET...
#       the same, then the new inputs of every stage join the corpus of
#       their target, minimised: only inputs that reach a branch no seed
#       and no other input reaches are kept (make fuzz)
#
# One line per target: its executions, or its crash and where its input
# is. Exits 1 on the first crash.
set -eu

mode=$1 seconds=$2 build=$3
shift 3
here=$(dirname "$0")
options="-max_len=4096 -timeout=10 -print_final_stats=1"

for name in "$@"; do
    binary=$build/fuzz/$name target=${name#*/}
    rm -rf "$binary.new"
    mkdir -p "$binary.new" "$here/corpus/$target"
    # New inputs go to the first folder; the seeds and corpus are read.
    if ! "$binary" $options -max_total_time="$seconds" \
            -artifact_prefix="$binary-" "$binary.new" "$here/seeds/$target" \
            "$here/corpus/$target" >"$binary.log" 2>&1; then
        echo "fuzz $name: CRASHED, see $binary.log"
        grep -E '^==[0-9]+==ERROR|^SUMMARY|runtime error|Assertion' \
            "$binary.log" | head -n 8
        ls "$binary"-crash-* "$binary"-timeout-* "$binary"-oom-* 2>/dev/null
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: //p' "$binary.log")
    echo "fuzz $name: $runs executions in $seconds s, no crash"
done
[ "$mode" = grow ] || exit 0

# The corpus of each target anew: the smallest set of its old corpus and
# every stage's new inputs that reaches every branch they reach, beyond
# the seeds (-use_counters=0: a branch taken more often is no new one).
# One stage's binary measures it: the framing is the same code in every
# stage, and the last stage's parser does the most.
for target in $(printf '%s\n' "$@" | sed 's|.*/||' | sort -u); do
    binary=$build/fuzz/$(printf '%s\n' "$@" | grep "/$target\$" | tail -n 1)
    merged=$build/fuzz/$target.merged
    rm -rf "$merged"
    mkdir -p "$merged"
    cp "$here/seeds/$target"/* "$merged/"
    "$binary" -merge=1 -use_counters=0 "$merged" "$here/corpus/$target" \
        "$build"/fuzz/*/"$target.new" >"$merged.log" 2>&1
    for seed in "$here/seeds/$target"/*; do
        rm -f "$merged/${seed##*/}"
    done
    rm -f "$here/corpus/$target"/*
    find "$merged" -type f -exec cp {} "$here/corpus/$target/" \;
    echo "corpus $target: $(ls "$here/corpus/$target" | wc -l) inputs" \
        "beyond $(ls "$here/seeds/$target" | wc -l) seeds"
done
