#!/usr/bin/env bash
# Instructions per decoded byte for the costliest bodies, counted by callgrind (repeatable, unlike time
# on a shared machine). Linear decoding shows as a flat Ir/byte column as the size grows.
#
#   fuzz/callgrind-decode.sh [SHAPES] [SIZES]
#   e.g. fuzz/callgrind-decode.sh "tokens items" "65536 600000 4194000"
#   fuzz/callgrind-decode.sh "check check-token" 10000   (the hot path: "bytes" is then the number of
#   decodes, and Ir/byte the instructions of one decode)
#
# Builds Benchmarks' decode-cost in release (scratch .build-bench, shared with `make bench`) and counts
# only the decode (callgrind --toggle-collect on measureOne), not the building of the body.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shapes="${1:-tokens items unknown tasks strings}"
sizes="${2:-65536 600000 4194000}"
command -v valgrind >/dev/null || { echo "callgrind-decode.sh: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
(cd "$root/Benchmarks" && swift build -c release --scratch-path ../.build-bench --product decode-cost >&2)
# valgrind 3.19 cannot read the DWARF 5 of this toolchain: count a copy without debug sections.
binary="$(mktemp)"
strip --strip-debug -o "$binary" "$root/.build-bench/release/decode-cost"
out="$(mktemp -d)"
trap 'rm -rf "$out" "$binary"' EXIT
printf '%-11s %10s %16s %10s  %s\n' shape bytes instructions Ir/byte outcome
for shape in $shapes; do
    for size in $sizes; do
        outcome="$(valgrind --tool=callgrind --toggle-collect='*measureOne*' --toggle-collect='*measureRepeated*' \
            --callgrind-out-file="$out/cg" "$binary" "$shape" "$size" 2>"$out/log" | cut -d: -f2-)"
        ir="$(sed -n 's/^==[0-9]*== Collected : \([0-9]*\).*/\1/p' "$out/log")"
        perbyte="$(awk -v a="$ir" -v b="$size" 'BEGIN { print a / b }')"
        printf '%-11s %10d %16d %10.1f %s\n' "$shape" "$size" "$ir" "$perbyte" "$outcome"
    done
done
