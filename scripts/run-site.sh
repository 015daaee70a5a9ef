#!/usr/bin/env bash
# Serve the site and run the probe runner side by side: `make run` calls this.
# Ctrl-C or SIGTERM stops both, and the script exits 0 once both have stopped cleanly.
# If either ends on its own, the script says which, stops the other and exits 1.
# Usage: scripts/run-site.sh BIN_DIR [ninerstatus serve options...]
set -u
bin=$1
shift

# Job control while starting them gives each child a process group of its own: the
# terminal's Ctrl-C reaches this script alone, and stop() ends each child with all its
# workers. It is off again afterwards, so bash prints no "[1]- Terminated" job notices.
set -m
"$bin/ninerstatus" runner &
runner=$!
"$bin/ninerstatus" serve "$@" &
web=$!
set +m

# Each child gets one SIGTERM: a second one, while it is already shutting down,
# could cut its clean exit short.
stopping=
stop() {
    [ -n "$stopping" ] && return
    stopping=yes
    kill -TERM -- "-$runner" "-$web" 2>/dev/null
}
trap stop INT TERM

# Sets $status to how child $1 ended. A signal that runs the trap meanwhile interrupts
# `wait` with 128+N while the child still runs, so wait again until it has really ended.
finished() {
    while kill -0 "$1" 2>/dev/null; do
        wait "$1"
    done
    wait "$1"
    status=$?
}

name() {
    if [ "$1" = "$web" ]; then echo "the web server (ninerstatus serve)"; else echo "the probe runner"; fi
}

# Returns when either child ends, or when a signal runs the trap.
ended=
wait -n -p ended "$runner" "$web"
if [ -z "$stopping" ] && [ -n "$ended" ]; then
    other=$web
    [ "$ended" = "$web" ] && other=$runner
    finished "$ended"
    echo "run-site: $(name "$ended") stopped on its own (exit status $status); stopping $(name "$other")." >&2
    stop
    finished "$other"
    exit 1
fi

# Asked to stop: 0 only when both children stopped cleanly. Ending by the SIGTERM sent
# to it (143) is stopping as asked too: a child still starting up has no handler yet.
stop
failed=0
for child in "$runner" "$web"; do
    finished "$child"
    if [ "$status" -ne 0 ] && [ "$status" -ne 143 ]; then
        echo "run-site: $(name "$child") exited with status $status while stopping." >&2
        failed=1
    fi
done
exit "$failed"
