#!/usr/bin/env bash
# Serve the site and run the probe runner side by side: `make run` calls this.
# Ctrl-C (or SIGTERM) stops both, and so does either of them ending on its own.
# Usage: scripts/run-site.sh BIN_DIR [ninerstatus serve options...]
set -u
# Job control gives each child a process group of its own: the terminal's Ctrl-C
# reaches this script alone, and the trap stops each child with all its workers.
set -m
bin=$1
shift

"$bin/ninerstatus" runner &
runner=$!
"$bin/ninerstatus" serve "$@" &
web=$!

stop() {
    kill -TERM -- "-$runner" "-$web" 2>/dev/null
}
trap stop INT TERM

# Returns when either child ends, or when a signal runs the trap.
wait -n
status=$?
stop
wait
exit "$status"
