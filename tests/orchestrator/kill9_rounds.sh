# kill9_rounds.sh: sourced by the kill -9 tests (early_stopping_kill9.sh, search_kill9.sh).
# kill9_rounds ROUNDS SPEC RESULTS WORK MAX_SLEEP_SECONDS: starts `${mpi[@]} $ablate run SPEC -o RESULTS`
# ROUNDS times; each time, once the attempt trains (its journal grows), waits a random moment
# (under MAX_SLEEP_SECONDS + 1 s) and kill -9s, in turn, the first child of mpirun (rank 0 or a
# worker), the last one, or the whole job; then copies the journal to WORK/journal.round<N>.
# Needs: mpi (array), ablate, RANDOM seeded by the caller.
kill9_rounds() {
  local rounds=$1 spec=$2 results=$3 work=$4 max_sleep=$5 round job size victim what
  for round in $(seq 1 "$rounds"); do
    setsid "${mpi[@]}" "$ablate" run "$spec" -o "$results" --threads 1 --progress lines >> "$work/killed.log" 2>&1 &
    job=$!
    size=$(stat -c %s "$results.journal" 2>/dev/null || echo 0)
    for _ in $(seq 600); do
      [ "$(stat -c %s "$results.journal" 2>/dev/null || echo 0)" -gt "$size" ] && break
      kill -0 "$job" 2>/dev/null || break
      sleep 0.1
    done
    sleep "$((RANDOM % (max_sleep + 1))).$(printf '%03d' $((RANDOM % 1000)))"
    if kill -0 "$job" 2>/dev/null; then
      case $((round % 3)) in
        0) victim=$(pgrep -P "$job" | head -n 1); what="rank 0 or a worker (first child)" ;;
        1) victim=$(pgrep -P "$job" | tail -n 1); what="a rank (last child)" ;;
        2) victim=""; what="the whole job" ;;
      esac
      if [ -n "$victim" ]; then kill -9 "$victim" 2>/dev/null; else kill -9 -- "-$job" 2>/dev/null; fi
      echo "round $round: kill -9 $what"
    else
      echo "round $round: the sweep ended before the kill"
    fi
    for _ in $(seq 100); do kill -0 "$job" 2>/dev/null || break; sleep 0.1; done
    kill -9 -- "-$job" 2>/dev/null
    wait "$job" 2>/dev/null
    [ -f "$results.journal" ] && cp "$results.journal" "$work/journal.round$round"
  done
}
