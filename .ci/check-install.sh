#!/usr/bin/env bash
# make install into a scratch PREFIX, then run the installed portico from another directory, with no
# Swift toolchain on its PATH: --version, and a server it starts, answers a ping and stops.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d)"
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -rf "$scratch"
}
trap cleanup EXIT

make -C "$root" install PREFIX="$scratch/prefix"
portico="$scratch/prefix/bin/portico"
cd "$scratch"
export PATH=/usr/bin:/bin

"$portico" --version
if ldd "$portico" | grep -q libswiftCore; then
    echo "check-install: $portico links the Swift runtime dynamically" >&2
    exit 1
fi

# Port 0: the server picks a free port and says which.
"$portico" serve --store memory --port 0 --data-dir "$scratch/data" > "$scratch/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do
    grep -q '^portico: ready$' "$scratch/serve.log" && break
    kill -0 "$server" 2>/dev/null || { cat "$scratch/serve.log" >&2; exit 1; }
    sleep 0.1
done
address="$(sed -n 's/^portico: listening on //p' "$scratch/serve.log")"
[ -n "$address" ] || { echo "check-install: the server never said where it listens" >&2; cat "$scratch/serve.log" >&2; exit 1; }
"$portico" wait-ready --address "$address" --timeout 30
"$portico" ping --address "$address"
"$portico" portfolio create --name "installed" --address "$address" --data-dir "$scratch/data"
echo "check-install: $portico works from $scratch"
