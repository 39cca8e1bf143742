#!/usr/bin/python3
"""Drives Watch through the Python client against a live server: history, a live change, the filter,
a refused revision, and a cancelled stream that leaves the connection usable. Exits non-zero on the
first wrong answer.

    watch.py --port 7700 --key pok_...
"""

import argparse
import os
import sys

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from portico import Client, PorticoError  # noqa: E402


def expect(condition, what):
    if not condition:
        print("FAILED: %s" % what)
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7700)
    parser.add_argument("--key", required=True, help="the operator key")
    args = parser.parse_args()

    with Client(args.host, args.port, credential=args.key) as writer, \
            Client(args.host, args.port, credential=args.key, timeout=5.0) as watcher:
        first = writer.create_portfolio(name="Watched").portfolio.id
        other = writer.create_portfolio(name="Other").portfolio.id
        head = writer.get_server_info().revision

        # History: every change since the first, in order, then one made while the stream is open.
        stream = watcher.watch(after_revision=0)
        seen = [next(stream).event.revision for _ in range(head)]
        expect(seen == list(range(1, head + 1)), "history %s" % seen)
        # Another call on the watching connection while the stream is open.
        expect(watcher.ping() is not None, "a call beside the stream")
        live = writer.add_app(portfolio_id=first, name="crm").revision
        event = next(stream).event
        expect(event.revision == live and event.operation == "createApp", "live change %s" % event)
        stream.close()  # cancels the stream on the server
        expect(watcher.get_server_info().revision == live, "the connection serves on after a cancel")

        # The filter: only the named portfolio's changes.
        writer.add_app(portfolio_id=other, name="theirs")
        mine = writer.add_app(portfolio_id=first, name="ours").revision
        filtered = watcher.watch(after_revision=head, portfolio_id=first)
        revisions = [next(filtered).event.revision for _ in range(2)]
        expect(revisions == [live, mine], "filtered %s" % revisions)
        filtered.close()

        # A revision the server has not reached.
        try:
            next(watcher.watch(after_revision=mine + 100))
            expect(False, "a future revision was accepted")
        except PorticoError as error:
            expect(error.code == "UNAVAILABLE" and error.reason == "REVISION_NOT_VISIBLE", "future: %s" % error)

        # A deadline ends the stream with the revision to resume from.
        try:
            for _ in watcher.watch(after_revision=mine, timeout=0.2):
                pass
            expect(False, "the stream outlived its deadline")
        except PorticoError as error:
            expect(error.code == "DEADLINE_EXCEEDED" and error.resume_revision == mine, "deadline: %s" % error)
    print("watch: ok")


if __name__ == "__main__":
    main()
