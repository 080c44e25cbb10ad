# kill9_rounds.sh: sourced by the kill -9 tests (early_stopping_kill9.sh, search_kill9.sh).
# kill9_rounds ROUNDS SPEC RESULTS WORK MAX_SLEEP_SECONDS: starts `${mpi[@]} $ablate run SPEC -o RESULTS`
# ROUNDS times; each time, once the attempt trains (its journal grows), waits a random moment
# (under MAX_SLEEP_SECONDS + 1 s) and kill -9s, in turn, the first child of mpirun (rank 0 or a
# worker), the last one, or the whole job; then copies the journal to WORK/journal.round<N>.
# Needs: mpi (array), ablate, RANDOM seeded by the caller; kill9_args (array, optional): more
# options for `ablate run` (e.g. --pack 4); kill9_wait_epoch=1 (optional): wait for a new epoch
# record rather than any record (a pack's start records all come before its first epoch).
# How far a journal has come: its size, or with kill9_wait_epoch=1 its epoch records.
journal_progress() {
  if [ "${kill9_wait_epoch:-0}" = 1 ]; then
    local n
    n=$(grep -c '"t":"epoch"' "$1" 2>/dev/null)
    echo "${n:-0}"
  else
    stat -c %s "$1" 2>/dev/null || echo 0
  fi
}

kill9_rounds() {
  local rounds=$1 spec=$2 results=$3 work=$4 max_sleep=$5 round job size victim what
  for round in $(seq 1 "$rounds"); do
    setsid "${mpi[@]}" "$ablate" run "$spec" -o "$results" --threads 1 --progress lines \
      ${kill9_args[@]+"${kill9_args[@]}"} >> "$work/killed.log" 2>&1 &
    job=$!
    size=$(journal_progress "$results.journal")
    for _ in $(seq 600); do
      [ "$(journal_progress "$results.journal")" -gt "$size" ] && break
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
