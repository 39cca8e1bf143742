#!/usr/bin/python3
"""The README's five-minute walk-through, through the Python client.

    make python-client
    PYTHONPATH=clients/python python3 clients/python/examples/walkthrough.py --key "$(cat data/operator.key)"
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from portico import Client, PorticoError  # noqa: E402
from portico.v1 import checks_pb2, types_pb2 as t  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7700)
    parser.add_argument("--key", required=True, help="the operator key (data/operator.key)")
    args = parser.parse_args()

    with Client(args.host, args.port, credential=args.key) as portico:
        portfolio = portico.create_portfolio(name="Acme", system_user_tier=t.SYSTEM_USER_TIER_STANDARD).portfolio
        app = portico.add_app(portfolio_id=portfolio.id, name="Acme CRM")
        admin = portico.create_system_user(portfolio_id=portfolio.id, name="Ops bot", role=t.ROLE_ADMIN).system_user
        token = portico.generate_token(system_user_id=admin.id, app_id=app.app.id,
                                       scopes=[t.SCOPE_BUSINESS_MANAGEMENT, t.SCOPE_ADS_MANAGEMENT])
        print("admin token (shown once): %s..." % token.secret[:12])

        # The admin system user's token administers its own portfolio.
        with Client(args.host, args.port, credential=token.secret) as acme:
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
