#!/usr/bin/env bash
# Regenerates all code made from proto/: the C of protoc-c into Sources/CPorticoProto (headers under the
# umbrella directory include/portico/v1), the Swift of protoc-gen-portico-swift into
# Sources/PorticoWire/Generated, and the golden files of Tests/PorticoWireTests. The output is
# committed; check-generated.sh fails on any drift.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/proto"

# protoc-c embeds its version and refuses to compile against another library version: pin it.
want="1.4.1"
have="$(protoc-c --version 2>/dev/null | sed -n 's/^protobuf-c \([0-9.]*\).*/\1/p')"
if [ "$have" != "$want" ]; then
    echo "generate.sh: needs protoc-c $want (Debian protobuf-c-compiler), found '${have:-none}'" >&2
    exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/c" "$tmp/swift"
mapfile -t protos < <(find portico -name '*.proto' | LC_ALL=C sort)
# Protos of other packages that Portico serves (gRPC's health service): their own protoc runs, so that
# their messages stay out of Portico's list of messages (PorticoMessages.all) and its fuzz targets.
mapfile -t vendored < <(find grpc -name '*.proto' | LC_ALL=C sort)

protoc-c -I. --c_out="$tmp/c" "${protos[@]}" "${vendored[@]}"
protoc -I. --plugin=protoc-gen-porticoswift=./protoc-gen-portico-swift \
    --porticoswift_out="$tmp/swift" "${protos[@]}"
protoc -I. --plugin=protoc-gen-porticoswift=./protoc-gen-portico-swift \
    --porticoswift_out="$tmp/swift" "${vendored[@]}"

c_target="$root/Sources/CPorticoProto"
swift_out="$root/Sources/PorticoWire/Generated"
rm -rf "$c_target/include/portico" "$c_target/portico" "$c_target/include/grpc" "$c_target/grpc" "$swift_out"
for dir in portico/v1 grpc/health/v1; do
    mkdir -p "$c_target/include/$dir" "$c_target/$dir"
    cp "$tmp"/c/$dir/*.pb-c.h "$c_target/include/$dir/"
    cp "$tmp"/c/$dir/*.pb-c.c "$c_target/$dir/"
done
mkdir -p "$swift_out"
cp "$tmp"/swift/*.swift "$swift_out/"
# The interoperability tests' golden files come from the same protos, through protoc itself.
./make-golden.py "$root/Tests/PorticoWireTests/Golden" >/dev/null
echo "generated: $(find "$c_target/portico" "$c_target/grpc" -name '*.c' | wc -l) C files, $(ls "$swift_out" | wc -l) Swift files"
