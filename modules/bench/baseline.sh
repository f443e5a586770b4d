#!/usr/bin/env bash
# Runs every scenario at full size against Gavel and the Node.js peer, as in docs/benchmarks.md.
# Before each scenario it waits (up to 5 minutes) for the machine to be quiet, so that other work on it does not
# count against either side; each JSON result still records the CPU that other processes used meanwhile.
# Usage: bash modules/bench/baseline.sh [scenario...]   (from the repository root; builds nothing)
set -euo pipefail
cd "$(dirname "$0")/../.."
BENCH=(java -jar modules/bench/target/gavel-bench.jar)

quiet() {
  local deadline=$((SECONDS + 300))
  while [ $SECONDS -lt $deadline ]; do
    read -r _ u1 n1 s1 i1 w1 q1 sq1 st1 _ < /proc/stat; sleep 5
    read -r _ u2 n2 s2 i2 w2 q2 sq2 st2 _ < /proc/stat
    local busy=$(( (u2+n2+s2+q2+sq2+st2) - (u1+n1+s1+q1+sq1+st1) ))   # ticks of 10 ms over 5 s, all cores
    if [ $busy -lt 100 ]; then return 0; fi                         # under 20% of one core
    echo "baseline: machine busy ($busy ticks in 5 s), waiting"
  done
  echo "baseline: machine still busy after 5 minutes, running anyway"
}

run() { quiet; echo "+ ${BENCH[*]} $*"; "${BENCH[@]}" "$@"; }

scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(hold connect fanout fanout-nodeflate fanout3 joinstorm slow cores)
for s in "${scenarios[@]}"; do
  case $s in
    hold)             run hold --target both --viewers 19000 --minutes 5 --jfr ;;
    connect)          run connect --target both --viewers 10000 ;;
    fanout)           run fanout --target both --viewers 5000 --bids 100 --rate 5 --jfr ;;
    fanout-nodeflate) run fanout --target gavel --viewers 5000 --bids 100 --rate 5 --no-deflate --results modules/bench/target/results/no-deflate ;;
    fanout3)          run fanout --target both --viewers 5000 --bids 100 --rate 5 --replicas 3 --results modules/bench/target/results/replicas-3 ;;
    joinstorm)        run joinstorm --target both --viewers 5000 ;;
    slow)             run slow --target both --viewers 100 --events 5000 --payload-bytes 3000 --rate 500 ;;
    cores)            run cores --viewers 5000 --bids 100 --rate 5 ;;
    *) echo "unknown scenario $s"; exit 2 ;;
  esac
done
