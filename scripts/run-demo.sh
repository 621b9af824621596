#!/bin/sh
# `make run`: keywardd and keyward-web on 127.0.0.1 with a throwaway state
# folder and the demo accounts alice and bob. Codes appear on this console.
set -eu

BUILD=${1:-build}
PORT=${KEYWARD_DEMO_PORT:-8080}
DIR=$(mktemp -d /tmp/keyward-demo.XXXXXX)

KEYWARDD_PID=""
WEB_PID=""
cleanup() {
	[ -n "$WEB_PID" ] && kill "$WEB_PID" 2>/dev/null || true
	[ -n "$KEYWARDD_PID" ] && kill "$KEYWARDD_PID" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$DIR"
	echo "keyward demo stopped; $DIR removed"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$BUILD/keywardd" --demo "$DIR" &
KEYWARDD_PID=$!

# keywardd writes its configuration and socket, then serves.
i=0
while [ ! -S "$DIR/keywardd.sock" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ ! -S "$DIR/keywardd.sock" ]; then
	echo "make run: keywardd did not start" >&2
	exit 1
fi

ROOT_FLAG=""
[ "$(id -u)" -eq 0 ] && ROOT_FLAG="--allow-root"
"$BUILD/keyward-web" --config "$DIR/keyward.conf" --listen "127.0.0.1:$PORT" $ROOT_FLAG &
WEB_PID=$!

sleep 0.5
cat <<MSG

  keyward demo is running.
    Open   http://127.0.0.1:$PORT/
    Type   alice (or bob) as the user name
    Then   enter the code keywardd prints on this console ("keyward code for alice: ...")
    Paste  a public key, e.g. the output of: ssh-keygen -t ed25519 -N '' -f /tmp/demo && cat /tmp/demo.pub
  State folder: $DIR (removed when you stop)
  Press Ctrl-C to stop.

MSG
wait "$WEB_PID"
