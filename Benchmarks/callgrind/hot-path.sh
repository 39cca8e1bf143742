#!/usr/bin/env bash
# Instructions, counted by callgrind (repeatable on a shared machine, unlike time), that the server
# spends per call of each hot RPC, and that the check engine spends per check beside a plain hash-map
# probe of the same keys in the same order.
#
#   Benchmarks/callgrind/hot-path.sh [rpc|engine|metrics|all] [CALLS] [IN_FLIGHT]     (make callgrind)
#   HOT_PATH_COST=/path/to/hot-path-cost Benchmarks/callgrind/hot-path.sh     (a binary built before)
#
# rpc: a server in the process of Benchmarks' hot-path-cost, on one event-loop thread, answers a blocking
# client on the main thread: CALLS calls (default 4096; batches: CALLS / 16) IN_FLIGHT to a round
# (default 16, one write each), after a warm-up of every body. The server's count is every thread's but
# the client's (callgrind's thread 1), while the calls run; "beyond ping" takes ping's count away, which
# leaves what the RPC itself costs over the transport.
# metrics: ping and check as in rpc, against a server without metrics and one that keeps them (counted per
# event loop), and the ratio of the two counts (not part of all).
# engine: AccessSnapshot.check by principal against the reference probe, 65,536 queries each, uniform and
# Zipf, on the CheckEngine benchmark's set at 50 portfolios.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
mode="${1:-all}"
calls="${2:-4096}"
inflight="${3:-16}"
command -v valgrind >/dev/null || { echo "hot-path.sh: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
# HOT_PATH_COST: a hot-path-cost built already (e.g. from an older commit, to compare); else it is built.
program="${HOT_PATH_COST:-}"
if [ -z "$program" ]; then
    (cd "$root/Benchmarks" && swift build -c release --scratch-path ../.build-bench --product hot-path-cost >&2)
    program="$root/.build-bench/release/hot-path-cost"
fi
# valgrind 3.19 cannot read the DWARF 5 of this toolchain: count a copy without debug sections.
binary="$(mktemp)"
strip --strip-debug -o "$binary" "$program"
out="$(mktemp -d)"
trap 'rm -rf "$out" "$binary"' EXIT

# One process per phase: valgrind counts every thread while the phase runs (instrumentation is started
# and stopped around it by the program), and writes one file per thread at exit.
count() {
    local phase="$2"
    valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes --dump-instr=no \
        --callgrind-out-file="$out/$phase.cg" "$binary" "$@" >"$out/$phase.txt" 2>"$out/$phase.log" || {
        echo "hot-path.sh: hot-path-cost $* failed:" >&2
        tail -n 20 "$out/$phase.txt" "$out/$phase.log" >&2
        exit 1
    }
}

# Prints one row per phase: the phase's count summed over its thread files (for rpc, without thread 1,
# the client's), divided by its calls.
report() {
    local mode="$1"
    shift
    python3 - "$out" "$mode" "$@" <<'PY'
import glob, os, re, sys
out, mode, phases = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = {}
for phase in phases:
    text = open(os.path.join(out, phase + ".txt")).read()
    found = re.search(r"^measured \S+ calls (\d+) checks (\d+)", text, re.M)
    if not found:
        sys.exit("hot-path.sh: %s measured nothing:\n%s" % (phase, text))
    calls, checks = int(found.group(1)), int(found.group(2))
    total = 0
    for path in glob.glob(os.path.join(out, phase + ".cg-*")):
        data = open(path).read()
        thread = int(re.search(r"^thread: (\d+)", data, re.M).group(1))
        if mode in ("rpc", "metrics") and thread == 1:
            continue
        # "totals" (the "summary" line is reset when instrumentation stops).
        total += int(re.search(r"^totals: (\d+)", data, re.M).group(1))
    if total == 0:
        sys.exit("hot-path.sh: callgrind counted nothing for %s" % phase)
    rows[phase] = (calls, checks, total / calls)
if mode == "rpc":
    ping = rows["ping"][2]
    print("%-18s %7s %15s %13s %11s" % ("rpc", "calls", "server Ir/call", "beyond ping", "Ir/check"))
    for phase, (calls, checks, per_call) in rows.items():
        beyond = "-" if phase == "ping" else "%.0f" % (per_call - ping)
        per_check = "-" if checks == 0 else "%.0f" % ((per_call - ping) / (checks / calls))
        print("%-18s %7d %15.0f %13s %11s" % (phase, calls, per_call, beyond, per_check))
elif mode == "metrics":
    print("%-18s %7s %15s %15s %9s" % ("rpc", "calls", "metrics off", "metrics on", "on / off"))
    for phase in ("ping", "check"):
        off, on = rows[phase][2], rows[phase + "-metrics"][2]
        print("%-18s %7d %15.0f %15.0f %9.3f" % (phase, rows[phase][0], off, on, on / off))
else:
    print("%-18s %7s %10s %14s" % ("engine", "queries", "Ir/check", "x reference"))
    for shape in ("uniform", "zipf"):
        engine, reference = rows["engine-" + shape], rows["reference-" + shape]
        print("%-18s %7d %10.0f %14.2f" % ("check " + shape, engine[0], engine[2], engine[2] / reference[2]))
        print("%-18s %7d %10.0f %14s" % ("probe " + shape, reference[0], reference[2], "1.00"))
PY
}

rpc_phases="ping check check-token-16 check-token-1000 batch-100"
engine_phases="engine-uniform reference-uniform engine-zipf reference-zipf"
metrics_phases="ping ping-metrics check check-metrics"
if [ "$mode" = rpc ] || [ "$mode" = all ]; then
    for phase in $rpc_phases; do count rpc "$phase" "$calls" "$inflight"; done
    report rpc $rpc_phases
fi
if [ "$mode" = metrics ]; then
    for phase in $metrics_phases; do count rpc "$phase" "$calls" "$inflight"; done
    report metrics $metrics_phases
fi
if [ "$mode" = engine ] || [ "$mode" = all ]; then
    for phase in $engine_phases; do count engine "$phase" 65536; done
    report engine $engine_phases
fi
