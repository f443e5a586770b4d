#!/usr/bin/env bash
# Runs the scenarios of docs/benchmarks.md ("after the rewrite") against this repository's node and, where the
# peer can take the size in reasonable time, the Node.js peer in the same run. Results go to
# modules/bench/target/results/after/. The peer re-sends a room's count to the whole room on every join, so
# putting 10,000 viewers into one auction costs it 50 million messages (several minutes); the one-auction
# scenarios therefore run side by side at 5,000 and Gavel alone at the 10,000 of the targets.
# Usage: bash modules/bench/after.sh [scenario...]   (from the repository root, after `mvn -B package -DskipTests`)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=modules/bench/target/results/after
BENCH=(java -jar modules/bench/target/gavel-bench.jar)
# the bench starts every node with deploy/jvm.options, the options users run (Context.serverJvmOptions)
run() { echo "+ ${BENCH[*]} $*"; "${BENCH[@]}" "$@"; }

scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(fanout fanout10k joinstorm10k slow connect cores hold fanout3 shards)
for s in "${scenarios[@]}"; do
  case $s in
    fanout)      run fanout --target both --viewers 5000 --bids 100 --rate 5 --jfr --results $OUT ;;
    fanout10k)   run fanout --target gavel --viewers 10000 --bids 100 --rate 5 --jfr --results $OUT/10k ;;
    joinstorm)   run joinstorm --target both --viewers 5000 --results $OUT ;;
    joinstorm10k) run joinstorm --target gavel --viewers 10000 --results $OUT/10k ;;
    slow)        run slow --target both --viewers 100 --events 5000 --payload-bytes 3000 --rate 500 --results $OUT ;;
    connect)     run connect --target both --viewers 10000 --results $OUT ;;
    cores)       run cores --viewers 10000 --bids 100 --rate 5 --results $OUT ;;
    hold)        run hold --target both --viewers 19000 --minutes 5 --jfr --results $OUT ;;
    fanout3)     run fanout --target both --viewers 5000 --bids 100 --rate 5 --replicas 3 --results $OUT/replicas-3 ;;
    shards)      run shards --target gavel --results $OUT/shards ;;
    # issue 21: 100,000 viewers over 6 replicas on one Redis, 10 minutes with churn and bids (~25 min in all);
    # extra arguments after `cluster` are not taken here: use the jar directly to shorten (--hold-s 60)
    cluster)     run cluster --results $OUT/cluster ;;
    cluster-3)   run cluster --redis cluster --shards 3 --results $OUT/cluster-3 ;;
    # Redis commands/s at rest against the number of auctions (6 replicas, 20,000 viewers): the two points of the curve
    rest-curve)  for a in 100 1000; do
                   run cluster --viewers 20000 --auctions $a --rest-s 60 --bids-s 5 --hold-s 10 --churn 0 --results $OUT/rest-curve/auctions-$a
                 done ;;
    *) echo "unknown scenario $s"; exit 2 ;;
  esac
done
