#!/usr/bin/python3
"""Writes the golden files of the interoperability tests (Tests/PorticoWireTests/Golden).

For every message of proto/portico/v1 it fills every field with a distinctive value (large and
negative varints, non-ASCII strings, the last enum value, two elements per repeated field, nested
messages; one sample per oneof member), has the reference implementation encode it
(`protoc --encode`) into NAME.binpb, and keeps protoc's own text of it (`protoc --decode`) as
NAME.txtpb. The Swift tests decode the .binpb files with protobuf-c and check that Portico's encoding
decodes with `protoc --decode` to the same text. Deterministic: generate.sh reruns it, and
check-generated.sh fails on drift.
"""

import os
import subprocess
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
from google.protobuf.descriptor import FieldDescriptor as F

PACKAGE = "portico.v1"


def protoc(args, stdin):
    return subprocess.run(["protoc", "-I."] + args, input=stdin, capture_output=True, check=True).stdout


def fill(message, oneof_choice, depth=0):
    desc = message.DESCRIPTOR
    for field in desc.fields:
        oneof = field.containing_oneof
        if oneof is not None and oneof_choice.get(oneof.full_name, oneof.fields[0].name) != field.name:
            continue
        values = [value(field, i, depth) for i in range(2 if field.label == F.LABEL_REPEATED else 1)]
        if field.label == F.LABEL_REPEATED:
            target = getattr(message, field.name)
            for v in values:
                if field.type == F.TYPE_MESSAGE:
                    target.add().CopyFrom(v)
                else:
                    target.append(v)
        elif field.type == F.TYPE_MESSAGE:
            getattr(message, field.name).CopyFrom(values[0])
        else:
            setattr(message, field.name, values[0])


def value(field, index, depth):
    n = field.number + index
    t = field.type
    if t in (F.TYPE_UINT64, F.TYPE_FIXED64):
        return 2 ** 63 + n
    if t in (F.TYPE_INT64, F.TYPE_SINT64, F.TYPE_SFIXED64):
        return -(2 ** 40) - n
    if t in (F.TYPE_UINT32, F.TYPE_FIXED32):
        return 2 ** 31 + n
    if t in (F.TYPE_INT32, F.TYPE_SINT32, F.TYPE_SFIXED32):
        return -1000 - n
    if t == F.TYPE_BOOL:
        return True
    if t == F.TYPE_STRING:
        return "%s #%d — café ☕ 名前" % (field.name, n)
    if t == F.TYPE_BYTES:
        return bytes([0, 1, 255, n % 256])
    if t == F.TYPE_ENUM:
        values = field.enum_type.values
        return values[-1 - index].number
    if t == F.TYPE_MESSAGE:
        if depth > 4:
            raise SystemExit("make-golden: messages nest too deep at %s" % field.full_name)
        sub = message_factory_for(field.message_type)()
        fill(sub, {}, depth + 1)
        return sub
    raise SystemExit("make-golden: unsupported type of %s" % field.full_name)


_factory = None


def message_factory_for(desc):
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(desc)
    return _factory.GetPrototype(desc)


def main():
    global _factory
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "Tests", "PorticoWireTests", "Golden")
    os.chdir(os.path.join(root, "proto"))
    protos = sorted(
        os.path.join(d, f) for d, _, fs in os.walk("portico") for f in fs if f.endswith(".proto")
    )
    fds = descriptor_pb2.FileDescriptorSet.FromString(protoc(["--include_imports", "--descriptor_set_out=/dev/stdout"] + protos, b""))
    pool = descriptor_pool.DescriptorPool()
    for f in fds.file:
        pool.Add(f)
    _factory = message_factory.MessageFactory(pool)
    os.makedirs(out_dir, exist_ok=True)
    for old in os.listdir(out_dir):
        if old.endswith((".binpb", ".txtpb")):
            os.remove(os.path.join(out_dir, old))
    count = 0
    for f in fds.file:
        if f.package != PACKAGE:
            continue
        for m in f.message_type:
            desc = pool.FindMessageTypeByName("%s.%s" % (PACKAGE, m.name))
            choices = [("", {})]
            for oneof in desc.oneofs:
                choices = [("@" + member.name, {oneof.full_name: member.name}) for member in oneof.fields]
            for suffix, choice in choices:
                msg = message_factory_for(desc)()
                fill(msg, choice)
                text = text_format.MessageToString(msg, as_utf8=True).encode()
                binary = protoc(["--encode=" + desc.full_name] + protos, text)
                canonical = protoc(["--decode=" + desc.full_name] + protos, binary)
                base = os.path.join(out_dir, desc.full_name + suffix)
                with open(base + ".binpb", "wb") as fh:
                    fh.write(binary)
                with open(base + ".txtpb", "wb") as fh:
                    fh.write(canonical)
                count += 1
    print("golden: %d samples" % count)


if __name__ == "__main__":
    main()
