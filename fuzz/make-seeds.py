#!/usr/bin/env python3
"""Writes the fuzzer's seed corpus (fuzz/seeds) from the repository's own examples.

An input's first byte picks the decoder (PorticoWire's WireInvariants): 0 for the frame decoder, then
1 + the index of a message type in PorticoMessages.all. Seeds: every golden file of the interop tests
as its message type, and the hex examples of docs/protocol.md as one stream of frames. Rerun after a
message type is added (the indices move); the seeds are inputs, not expectations, so a stale one only
points at another type.
"""
import pathlib
import re

root = pathlib.Path(__file__).resolve().parent.parent
service = (root / "Sources/PorticoWire/Generated/service.pb.swift").read_text()
listing = service.split("public enum PorticoMessages {", 1)[1].split("= [", 1)[1].split("]", 1)[0]
types = re.findall(r"(\w+)\.self", listing)
index = {name: i for i, name in enumerate(types)}

out = root / "fuzz/seeds"
out.mkdir(exist_ok=True)
for old in out.glob("golden-*"):
    old.unlink()

for golden in sorted((root / "Tests/PorticoWireTests/Golden").glob("*.binpb")):
    name = golden.name[len("portico.v1."):].split("@")[0].split(".")[0]
    if name not in index:
        continue
    (out / ("golden-" + golden.stem[len("portico.v1."):])).write_bytes(bytes([1 + index[name]]) + golden.read_bytes())

# docs/protocol.md: the preface and every frame, in the order of the page, as one client-to-server
# stream (0x80: the decoder expects the preface; 0x05: reads of 6 bytes) and one without the preface.
page = (root / "docs/protocol.md").read_text()
blocks = re.findall(r"<!-- example: ([\w-]+) -->\n```hex\n(.*?)```", page, re.S)
stream = b"".join(bytes.fromhex("".join(hexa.split())) for _, hexa in blocks)
(out / "docs-stream").write_bytes(bytes([0, 0x85]) + stream)
frames = b"".join(bytes.fromhex("".join(hexa.split())) for name, hexa in blocks if name != "preface")
(out / "docs-frames").write_bytes(bytes([0, 0x00]) + frames)
print("seeds:", len(list(out.iterdir())))
