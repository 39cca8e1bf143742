#!/usr/bin/env python3
"""Soak test: well-behaved and hostile clients against one `portico serve`, for a few minutes.

Starts the server (memory store, default limits), builds a small data set, measures the server's
resident memory at rest, then runs at once, for --minutes:

  legit      --legit connections from 127.0.0.1, each a closed loop of CheckPermission and Ping,
             every call with a 5 s deadline: their errors and latency are the result;
  loris      connections that trickle a frame one byte a second (frame timeout);
  sleepers   connections that send the preface and never call (first-call timeout);
  readers    connections that ask for 200 pages of audit events each and never read (output budget);
  deadlines  writes with 1 us deadlines, round after round (calls in flight count until done);
  reuse      a call id answered by its deadline, reused at once by a GenerateToken (answers must
             never cross: a late answer on a reused id counts as a crossed answer);
  storms     bursts of 600 connections opened at once, each pinging, then closed;
  cancels    floods of CANCEL frames for ids never used.

The well-behaved clients run in a process of their own. Hostile clients connect from 127.0.0.2 to 127.0.0.9 (loopback, other addresses), so that the
per-address limit treats them as the other hosts they stand for. Then it stops them, waits, and
measures memory again. Run from the repository after `make python-client` and `swift build`:

    /usr/bin/python3 Benchmarks/soak/soak.py --minutes 3 [--rounds 2] [--binary .build/release/portico]

(the interpreter with Debian's python3-protobuf). A second round shows whether memory kept after the
first is a leak (it grows again) or the allocator keeping pages it has freed (it does not).
"""

import argparse
import asyncio
import multiprocessing
import os
import random
import socket
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))

from portico import Client  # noqa: E402
from portico.v1 import (changes_pb2, checks_pb2, frame_pb2, health_pb2, portfolios_pb2,  # noqa: E402
                        tokens_pb2, types_pb2)

PREFACE = b"PORTICO\x01"
M = frame_pb2.Method


def frame(call_id, method, body=b"", credential="", timeout_micros=0, kind=frame_pb2.FRAME_KIND_REQUEST):
    header = frame_pb2.FrameHeader(kind=kind, call_id=call_id, method=method, credential=credential,
                                   timeout_micros=timeout_micros).SerializeToString()
    return struct.pack(">II", 4 + len(header) + len(body), len(header)) + header + body


async def connect(port, source="127.0.0.1", receive_buffer=None):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.bind((source, 0))
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return sock


async def read_frame(sock):
    loop = asyncio.get_running_loop()

    async def exactly(count):
        data = bytearray()
        while len(data) < count:
            chunk = await loop.sock_recv(sock, count - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return bytes(data)

    length, header_length = struct.unpack(">II", await exactly(8))
    rest = await exactly(length - 4)
    return frame_pb2.FrameHeader.FromString(rest[:header_length]), rest[header_length:]


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Soak:
    def __init__(self, port, key, fixture, stop):
        self.port, self.key, self.fixture, self.stop = port, key, fixture, stop
        self.latencies, self.errors, self.crossed, self.counts = [], {}, 0, {}
        self.flood = b"".join(frame(i, 0, kind=frame_pb2.FRAME_KIND_CANCEL) for i in range(1, 20_001))

    def count(self, what, n=1):
        self.counts[what] = self.counts.get(what, 0) + n

    async def legit(self):
        sock = await connect(self.port)
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(sock, PREFACE)
        check = checks_pb2.CheckPermissionRequest(system_user_id=self.fixture["worker"], asset_id=self.fixture["asset"],
                                                  task=types_pb2.ASSET_TASK_ANALYZE).SerializeToString()
        call_id = 0
        while not self.stop.is_set():
            call_id += 1
            method, body = (M.Value("METHOD_CHECK_PERMISSION"), check) if call_id % 2 else (M.Value("METHOD_PING"), b"")
            started = time.monotonic()
            try:
                await loop.sock_sendall(sock, frame(call_id, method, body, self.key, 5_000_000))
                header, _ = await asyncio.wait_for(read_frame(sock), 5)
                if header.status_code != 0 or header.call_id != call_id:
                    name = frame_pb2.StatusCode.Name(header.status_code)
                    self.errors[name] = self.errors.get(name, 0) + 1
                self.latencies.append(time.monotonic() - started)
            except (OSError, ConnectionError, asyncio.TimeoutError) as error:
                self.errors[type(error).__name__] = self.errors.get(type(error).__name__, 0) + 1
                sock.close()
                sock = await connect(self.port)
                await loop.sock_sendall(sock, PREFACE)

    async def hostile(self, name, body):
        """Runs `body(source)` again and again from the hostile addresses until told to stop."""
        while not self.stop.is_set():
            source = "127.0.0.%d" % random.randint(2, 9)
            try:
                await body(source)
            except (OSError, ConnectionError, asyncio.TimeoutError):
                self.count(name + " cut")
            self.count(name)

    async def loris(self, source):
        sock = await connect(self.port, source)
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(sock, PREFACE)
        for byte in frame(1, M.Value("METHOD_PING")):
            await loop.sock_sendall(sock, bytes([byte]))
            await asyncio.sleep(1)
        sock.close()

    async def sleeper(self, source):
        sock = await connect(self.port, source)
        await asyncio.get_running_loop().sock_sendall(sock, PREFACE)
        await asyncio.wait_for(read_frame(sock), 60)  # the GOAWAY
        sock.close()

    async def reader(self, source):
        sock = await connect(self.port, source, receive_buffer=4096)
        page = changes_pb2.ListAuditEventsRequest(page_size=1000).SerializeToString()
        requests = b"".join(frame(i, M.Value("METHOD_LIST_AUDIT_EVENTS"), page, self.key) for i in range(1, 201))
        await asyncio.get_running_loop().sock_sendall(sock, PREFACE + requests)
        await asyncio.sleep(20)
        sock.close()

    async def deadlines(self, source):
        sock = await connect(self.port, source)
        loop = asyncio.get_running_loop()
        body = portfolios_pb2.CreatePortfolioRequest(name="never").SerializeToString()
        await loop.sock_sendall(sock, PREFACE + b"".join(frame(i, M.Value("METHOD_CREATE_PORTFOLIO"), body, self.key, 1)
                                                           for i in range(1, 501)))
        for _ in range(500):
            await asyncio.wait_for(read_frame(sock), 30)
        sock.close()

    async def reuse(self, source):
        sock = await connect(self.port, source)
        loop = asyncio.get_running_loop()
        person = portfolios_pb2.AddPersonRequest(portfolio_id=self.fixture["portfolio"], name="late",
                                                 role=types_pb2.ROLE_EMPLOYEE).SerializeToString()
        token = tokens_pb2.GenerateTokenRequest(system_user_id=self.fixture["admin"], app_id=self.fixture["app"],
                                                scopes=[types_pb2.SCOPE_ADS_READ]).SerializeToString()
        await loop.sock_sendall(sock, PREFACE + frame(5, M.Value("METHOD_ADD_PERSON"), person, self.key, 1))
        header, _ = await asyncio.wait_for(read_frame(sock), 30)
        await loop.sock_sendall(sock, frame(5, M.Value("METHOD_GENERATE_TOKEN"), token, self.key))
        header, body = await asyncio.wait_for(read_frame(sock), 30)
        if header.status_code == 0 and not tokens_pb2.GenerateTokenResponse.FromString(body).secret.startswith("ptk_"):
            self.crossed += 1
        sock.close()

    async def storm(self, source):
        async def one():
            try:
                sock = await connect(self.port, source)
                await asyncio.get_running_loop().sock_sendall(sock, PREFACE + frame(1, M.Value("METHOD_PING")))
                await asyncio.wait_for(read_frame(sock), 30)
                sock.close()
            except (OSError, ConnectionError, asyncio.TimeoutError):
                self.count("storm connection without answer")
        await asyncio.gather(*(one() for _ in range(600)))
        await asyncio.sleep(5)

    async def cancels(self, source):
        sock = await connect(self.port, source)
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(sock, PREFACE + self.flood + frame(99_999, M.Value("METHOD_PING")))
        await asyncio.wait_for(read_frame(sock), 30)
        sock.close()


def build_fixture(port, key):
    with Client("127.0.0.1", port, credential=key) as client:
        portfolio = client.create_portfolio(name="soak", system_user_tier=types_pb2.SYSTEM_USER_TIER_STANDARD).portfolio.id
        app = client.add_app(portfolio_id=portfolio, name="app").app.id
        admin = client.create_system_user(portfolio_id=portfolio, name="admin", role=types_pb2.ROLE_ADMIN).system_user.id
        worker = client.create_system_user(portfolio_id=portfolio, name="worker", role=types_pb2.ROLE_EMPLOYEE).system_user.id
        asset = client.add_asset(portfolio_id=portfolio, type=types_pb2.ASSET_TYPE_AD_ACCOUNT, name="ads").asset.id
        client.assign_tasks(principal=types_pb2.Principal(kind=types_pb2.PRINCIPAL_KIND_SYSTEM_USER, id=worker),
                            asset_id=asset, tasks=[types_pb2.ASSET_TASK_ADVERTISE])
        for index in range(600):
            client.create_portfolio(name="audit filler %d" % index)
        return dict(portfolio=portfolio, app=app, admin=admin, worker=worker, asset=asset)


def legit_process(port, key, fixture, seconds, connections, results):
    """The well-behaved clients, in a process of their own so that the hostile ones do not slow them."""
    async def main():
        stop = asyncio.Event()
        soak = Soak(port, key, fixture, stop)
        tasks = [asyncio.create_task(soak.legit()) for _ in range(connections)]
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.wait(tasks, timeout=30)
        results.put((soak.latencies, soak.errors))
    asyncio.run(main())


async def attack(args, port, key, fixture, pid):
    """One round: legitimate and hostile clients for --minutes; returns what it saw."""
    stop = asyncio.Event()
    soak = Soak(port, key, fixture, stop)
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no event loop inherited by fork
    results = spawn.Queue()
    legit = spawn.Process(target=legit_process,
                                    args=(port, key, fixture, args.minutes * 60, args.legit, results))
    legit.start()
    rss = []

    async def sample():
        while not stop.is_set():
            rss.append(rss_kb(pid))
            await asyncio.sleep(1)

    tasks = [asyncio.create_task(sample())]
    for name, body, copies in [("loris", soak.loris, 20), ("sleepers", soak.sleeper, 20), ("readers", soak.reader, 100),
                               ("deadlines", soak.deadlines, 2), ("reuse", soak.reuse, 2), ("storms", soak.storm, 1),
                               ("cancels", soak.cancels, 1)]:
        tasks += [asyncio.create_task(soak.hostile(name, body)) for _ in range(copies)]
    await asyncio.sleep(args.minutes * 60)
    stop.set()
    latencies, errors = await asyncio.get_running_loop().run_in_executor(None, results.get)
    legit.join()
    await asyncio.wait(tasks, timeout=90)
    for task in tasks:
        task.cancel()
    await asyncio.sleep(args.settle)
    return sorted(latencies), errors, soak, rss, rss_kb(pid)


async def run(args):
    key = "pok_" + "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(43))
    server = subprocess.Popen([args.binary, "serve", "--store", "memory", "--port", "0", "--operator-key", key,
                               "--log-level", "warning"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = None
    for line in server.stdout:
        if line.startswith("portico: listening on "):
            port = int(line.strip().rsplit(":", 1)[1])
        if line.strip() == "portico: ready":
            break
    fixture = build_fixture(port, key)
    await asyncio.sleep(2)
    print("soak: %d round(s) of %.1f minutes, %d legitimate connections; server RSS at rest %.1f MB" % (
        args.rounds, args.minutes, args.legit, rss_kb(server.pid) / 1024))
    for round in range(1, args.rounds + 1):
        latencies, errors, soak, rss, after = await attack(args, port, key, fixture, server.pid)

        def percentile(p):
            return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

        print("round %d: legitimate calls %d, errors %s; latency ms p50 %.2f, p99 %.2f, p99.9 %.2f, max %.2f" % (
            round, len(latencies), errors or 0, percentile(0.5), percentile(0.99), percentile(0.999), percentile(1.0)))
        print("  answers crossed to a reused call id: %d; hostile rounds: %s" % (
            soak.crossed, ", ".join("%s %d" % item for item in sorted(soak.counts.items()))))
        with Client("127.0.0.1", port, credential=key) as client:
            revision = client.get_server_info().revision
        print("  server RSS MB: peak during %.1f, median during %.1f, %ds after %.1f (state at revision %d)" % (
            max(rss) / 1024, sorted(rss)[len(rss) // 2] / 1024, args.settle, after / 1024, revision))
    server.terminate()
    server.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "debug", "portico"))
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--legit", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="attacks one after the other, memory read after each")
    parser.add_argument("--settle", type=int, default=30, help="seconds after the attack before memory is read again")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
