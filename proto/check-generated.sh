#!/usr/bin/env bash
# Fails when the committed generated code differs from what proto/generate.sh makes now (as gRPC's
# dev/check-generated-code.sh does): edit the .proto files, never the output.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
"$root/proto/generate.sh" >/dev/null
paths=(Sources/CPorticoProto Sources/PorticoWire/Generated Tests/PorticoWireTests/Golden)
if ! git diff --quiet -- "${paths[@]}" || [ -n "$(git ls-files --others --exclude-standard -- "${paths[@]}")" ]; then
    echo "check-generated: the generated code differs from the committed code; run 'make generate' and commit:" >&2
    git status --short -- "${paths[@]}" >&2
    git --no-pager diff --stat -- "${paths[@]}" >&2
    exit 1
fi
echo "check-generated: generated code is up to date"
