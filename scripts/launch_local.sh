#!/usr/bin/env bash
# Starts N hemapath workers on this host, as torchrun would:
#   scripts/launch_local.sh N hemapath train --config CFG --out DIR --distributed [...]
# Each worker gets RANK, LOCAL_RANK, WORLD_SIZE=N, MASTER_ADDR=127.0.0.1 and MASTER_PORT
# (kept when already set, else a free port); its output lines are prefixed with [rank i].
# When a worker fails, the others are stopped and the script exits with the failed worker's
# status; Ctrl-C stops them all. Exit 0 only when every worker succeeded.
set -uo pipefail

usage() {
  echo "usage: $0 N COMMAND [ARGS...]   (N >= 1 worker processes on this host)" >&2
  exit 2
}
[ $# -ge 2 ] || usage
n="$1"
shift
[[ "$n" =~ ^[1-9][0-9]*$ ]] || usage

free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
  else
    echo $((20000 + RANDOM % 40000))
  fi
}

export MASTER_ADDR="${MASTER_ADDR:-127.0.0.1}"
export MASTER_PORT="${MASTER_PORT:-$(free_port)}"
export WORLD_SIZE="$n"

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
}
trap 'stop_all; exit 130' INT TERM

for ((rank = 0; rank < n; ++rank)); do
  RANK="$rank" LOCAL_RANK="$rank" "$@" > >(sed -u "s/^/[rank $rank] /") 2>&1 &
  pids+=("$!")
done

status=0
live=("${pids[@]}")
while [ ${#live[@]} -gt 0 ]; do
  finished=""
  wait -n -p finished "${live[@]}"
  code=$?
  [ -n "${finished:-}" ] || break
  if [ "$code" -ne 0 ]; then
    for ((rank = 0; rank < n; ++rank)); do
      [ "${pids[$rank]}" = "$finished" ] && echo "launch_local: rank $rank exited with status $code; stopping the others" >&2
    done
    status=$code
    stop_all
    break
  fi
  still=()
  for pid in "${live[@]}"; do [ "$pid" = "$finished" ] || still+=("$pid"); done
  live=("${still[@]}")
done
wait  # the output prefixers
exit "$status"
