#!/usr/bin/env python3
"""A permission check over gRPC with nothing but what the stock tools generate (docs/clients.md, "gRPC").

    .build/python/bin/python3 -m grpc_tools.protoc -Iproto --python_out=OUT --grpc_python_out=OUT \\
        proto/portico/v1/*.proto
    PYTHONPATH=OUT .build/python/bin/python3 clients/python/examples/grpc_check.py \\
        --address 127.0.0.1:7701 --data-dir ./data

It builds a portfolio with a system user assigned ADVERTISE on an ad account, asks two checks, and
shows how a refused call reads: the gRPC status, and Portico's ErrorDetail from the trailing metadata.
"""

import argparse
import os

import grpc

from portico.v1 import access_pb2, checks_pb2, frame_pb2, portfolios_pb2, service_pb2_grpc, types_pb2


def main():
    parser = argparse.ArgumentParser(description="A permission check over gRPC, through generated stubs.")
    parser.add_argument("--address", default="127.0.0.1:7701", help="the gRPC endpoint, HOST:PORT")
    parser.add_argument("--data-dir", default="./data", help="the server's data directory (its operator.key)")
    args = parser.parse_args()
    with open(os.path.join(args.data_dir, "operator.key")) as file:
        key = file.read().strip()

    channel = grpc.insecure_channel(args.address)
    portico = service_pb2_grpc.PorticoStub(channel)
    # The credential travels as `authorization: Bearer <secret>`; every call sets a deadline.
    as_operator = [("authorization", "Bearer " + key)]

    portfolio = portico.CreatePortfolio(
        portfolios_pb2.CreatePortfolioRequest(name="Acme", system_user_tier=types_pb2.SYSTEM_USER_TIER_STANDARD),
        metadata=as_operator, timeout=10).portfolio
    portico.AddApp(portfolios_pb2.AddAppRequest(portfolio_id=portfolio.id, name="CRM"), metadata=as_operator, timeout=10)
    bot = portico.CreateSystemUser(
        portfolios_pb2.CreateSystemUserRequest(portfolio_id=portfolio.id, name="Reporting bot",
                                               role=types_pb2.ROLE_EMPLOYEE),
        metadata=as_operator, timeout=10).system_user
    ads = portico.AddAsset(
        portfolios_pb2.AddAssetRequest(portfolio_id=portfolio.id, type=types_pb2.ASSET_TYPE_AD_ACCOUNT, name="Main ads"),
        metadata=as_operator, timeout=10).asset
    portico.AssignTasks(
        access_pb2.AssignTasksRequest(
            principal=types_pb2.Principal(kind=types_pb2.PRINCIPAL_KIND_SYSTEM_USER, id=bot.id),
            asset_id=ads.id, tasks=[types_pb2.ASSET_TASK_ADVERTISE]),
        metadata=as_operator, timeout=10)

    for task in (types_pb2.ASSET_TASK_ANALYZE, types_pb2.ASSET_TASK_MANAGE):
        answer = portico.CheckPermission(
            checks_pb2.CheckPermissionRequest(system_user_id=bot.id, asset_id=ads.id, task=task),
            metadata=as_operator, timeout=10)
        print("%-7s %s (%s)" % (types_pb2.AssetTask.Name(task).replace("ASSET_TASK_", ""),
                                "allowed" if answer.allowed else "denied",
                                checks_pb2.DecisionReason.Name(answer.reason).replace("DECISION_REASON_", "")))

    try:
        portico.GetPortfolio(portfolios_pb2.GetPortfolioRequest(portfolio_id=portfolio.id), timeout=10)
    except grpc.RpcError as error:
        detail = next((frame_pb2.ErrorDetail.FromString(value) for name, value in error.trailing_metadata()
                       if name == "portico-error-detail-bin"), frame_pb2.ErrorDetail())
        print("without a credential: %s, reason %s, Meta code %d" % (error.code().name, detail.reason, detail.meta_code))


if __name__ == "__main__":
    main()
