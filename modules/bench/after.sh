#!/usr/bin/env bash
# Runs every scenario at the sizes of issue 7's targets against this repository's node and the Node.js peer, as
# in docs/benchmarks.md ("after"). Results go to modules/bench/target/results/after/.
# Usage: bash modules/bench/after.sh [scenario...]   (from the repository root, after `mvn -B package -DskipTests`)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=modules/bench/target/results/after
JVM="-XX:+ExitOnOutOfMemoryError"
BENCH=(java -jar modules/bench/target/gavel-bench.jar)
run() { echo "+ ${BENCH[*]} $*"; "${BENCH[@]}" "$@" --server-jvm-opts "$JVM"; }

scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(fanout joinstorm slow connect cores hold fanout3)
for s in "${scenarios[@]}"; do
  case $s in
    fanout)    run fanout --target both --viewers 10000 --bids 100 --rate 5 --jfr --results $OUT ;;
    joinstorm) run joinstorm --target both --viewers 10000 --results $OUT ;;
    slow)      run slow --target both --viewers 100 --events 5000 --payload-bytes 3000 --rate 500 --results $OUT ;;
    connect)   run connect --target both --viewers 10000 --results $OUT ;;
    cores)     run cores --viewers 10000 --bids 100 --rate 5 --results $OUT ;;
    hold)      run hold --target both --viewers 19000 --minutes 5 --jfr --results $OUT ;;
    fanout3)   run fanout --target both --viewers 10000 --bids 100 --rate 5 --replicas 3 --results $OUT/replicas-3 ;;
    *) echo "unknown scenario $s"; exit 2 ;;
  esac
done
