#!/usr/bin/python3
"""The README's five-minute walk-through, through the Python client.

    make python-client
    PYTHONPATH=clients/python python3 clients/python/examples/walkthrough.py --address 127.0.0.1:7700 --data-dir ./data

It finds the server and the operator key as `portico` does: --address (else PORTICO_ADDRESS, else
127.0.0.1:7700), and --key (else PORTICO_CREDENTIAL, else the operator.key of --data-dir, else of
PORTICO_DATA_DIR, else of ./data).
"""

import argparse
import os
import sys

# Found after PYTHONPATH, so that a copy with generated messages (`make python-client`) comes first.
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from portico import Client, PorticoError  # noqa: E402
from portico.v1 import checks_pb2, types_pb2 as t  # noqa: E402


def settings():
    """The server's host and port and the operator key, from the flags, the environment or the defaults."""
    parser = argparse.ArgumentParser(description="The README walk-through through the Python client.")
    parser.add_argument("--address", default=os.environ.get("PORTICO_ADDRESS", "127.0.0.1:7700"),
                        help="the server, as HOST:PORT (default: PORTICO_ADDRESS, else 127.0.0.1:7700)")
    parser.add_argument("--host", help="the server's host, instead of the one of --address")
    parser.add_argument("--port", type=int, help="the server's port, instead of the one of --address")
    parser.add_argument("--key", default=os.environ.get("PORTICO_CREDENTIAL"),
                        help="the operator key (default: PORTICO_CREDENTIAL, else DATA_DIR/operator.key)")
    parser.add_argument("--data-dir", default=os.environ.get("PORTICO_DATA_DIR", "./data"),
                        help="the server's data directory, where its operator.key is (default: PORTICO_DATA_DIR, else ./data)")
    args = parser.parse_args()
    host, _, port = args.address.rpartition(":")
    if not host or not port.isdigit():
        parser.error("--address must be HOST:PORT, not %r" % args.address)
    key = args.key
    if not key:
        path = os.path.join(args.data_dir, "operator.key")
        try:
            with open(path) as file:
                key = file.read().strip()
        except OSError as error:
            parser.error("no operator key: no --key, PORTICO_CREDENTIAL is not set, and %s: %s" % (path, error.strerror))
    return args.host or host, args.port or int(port), key


def main():
    host, port, key = settings()
    with Client(host, port, credential=key) as portico:
        portfolio = portico.create_portfolio(name="Acme", system_user_tier=t.SYSTEM_USER_TIER_STANDARD).portfolio
        app = portico.add_app(portfolio_id=portfolio.id, name="Acme CRM")
        admin = portico.create_system_user(portfolio_id=portfolio.id, name="Ops bot", role=t.ROLE_ADMIN).system_user
        token = portico.generate_token(system_user_id=admin.id, app_id=app.app.id,
                                       scopes=[t.SCOPE_BUSINESS_MANAGEMENT, t.SCOPE_ADS_MANAGEMENT])
        print("admin token (shown once): %s..." % token.secret[:12])

        # The admin system user's token administers its own portfolio.
        with Client(host, port, credential=token.secret) as acme:
            ads = acme.add_asset(portfolio_id=portfolio.id, type=t.ASSET_TYPE_AD_ACCOUNT, name="Main ads").asset
            bot = acme.create_system_user(portfolio_id=portfolio.id, name="Reporting bot", role=t.ROLE_EMPLOYEE).system_user
            acme.assign_tasks(principal=t.Principal(kind=t.PRINCIPAL_KIND_SYSTEM_USER, id=bot.id),
                              asset_id=ads.id, tasks=[t.ASSET_TASK_ADVERTISE])
            for task in (t.ASSET_TASK_ANALYZE, t.ASSET_TASK_MANAGE):
                answer = acme.check_permission(system_user_id=bot.id, asset_id=ads.id, task=task)
                print("%-7s %s (%s)" % (t.AssetTask.Name(task).replace("ASSET_TASK_", ""),
                                        "allowed" if answer.allowed else "denied",
                                        checks_pb2.DecisionReason.Name(answer.reason).replace("DECISION_REASON_", "")))
            try:
                acme.create_portfolio(name="not mine")
            except PorticoError as error:
                print("an admin token cannot create portfolios: %s" % error.code)


if __name__ == "__main__":
    main()
