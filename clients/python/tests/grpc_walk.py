#!/usr/bin/env python3
"""Every RPC of `service Portico`, called through the stubs grpcio-tools generates from proto/ at the
server's gRPC endpoint, each answer compared with the native protocol's on the same server.

    grpc_walk.py --native-port 7700 --grpc-port 7701 --key pok_...

The walk is a table (STEPS): each step names an RPC, how it is compared, who calls it, and how its
request is built from what earlier steps made.
- READ: the same call through both transports, back to back (no write in between); the answers must
  be equal.
- WRITE: made once, through gRPC (twice would change the state twice). The revision it answers with
  must be the newest the native protocol reports, and the step's check reads its effect back through
  the native protocol.
- FAIL: the same call through both, refused; the status and the ErrorDetail (trailing metadata
  `portico-error-detail-bin` on gRPC, the frame header's on the native side) must be equal.
A step must exist for every RPC of the service descriptor, so a new RPC cannot be left out. The walk
ends with gRPC's health service, through grpcio-health-checking's own stubs. Exits non-zero on the
first difference; prints "N passed, 0 failed".
"""

import argparse
import os
import sys

# After PYTHONPATH, so that a folder of generated stubs given there (the tests') is found first.
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import grpc  # noqa: E402
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402

from grpc_client import GrpcClient  # noqa: E402
from portico import Client, PorticoError  # noqa: E402
from portico.v1 import access_pb2 as a, changes_pb2 as ch, checks_pb2 as c, health_pb2 as h  # noqa: E402
from portico.v1 import portfolios_pb2 as p, preview_pb2 as pv, service_pb2, tokens_pb2 as tk, types_pb2 as t  # noqa: E402,E501

READ, WRITE, FAIL, STREAM = "read", "write", "fail", "stream"
PASSED = 0


def expect(condition, what):
    global PASSED
    if not condition:
        print("FAILED: %s" % what)
        print("%d passed, 1 failed" % PASSED)
        sys.exit(1)
    PASSED += 1


def SU(id):  # noqa: N802
    return t.Principal(kind=t.PRINCIPAL_KIND_SYSTEM_USER, id=id)


def PERSON(id):  # noqa: N802
    return t.Principal(kind=t.PRINCIPAL_KIND_PERSON, id=id)


# (rpc, kind, caller, request from ctx, what to remember of the answer / how to check it natively)
# caller: "operator", "admin" (the admin system user's token), "service" (a service credential acting
# for a person), or None (the RPCs that need no credential).
STEPS = [
    ("Ping", READ, None, lambda x: h.PingRequest(), None),
    ("GetServerInfo", READ, None, lambda x: h.GetServerInfoRequest(), None),
    ("CreatePortfolio", WRITE, "operator",
     lambda x: p.CreatePortfolioRequest(name="Acme", system_user_tier=t.SYSTEM_USER_TIER_STANDARD),
     lambda x, r: x.update(acme=r.portfolio.id)),
    ("CreatePortfolio", WRITE, "operator", lambda x: p.CreatePortfolioRequest(name="Agency"),
     lambda x, r: x.update(agency=r.portfolio.id)),
    ("GetPortfolio", READ, "operator", lambda x: p.GetPortfolioRequest(portfolio_id=x["acme"]), None),
    ("ListPortfolios", READ, "operator", lambda x: p.ListPortfoliosRequest(page_size=10), None),
    ("SetPortfolioStatus", WRITE, "operator",
     lambda x: p.SetPortfolioStatusRequest(portfolio_id=x["agency"], status=t.PORTFOLIO_STATUS_RESTRICTED),
     lambda x, r: x.update(check_portfolio=x["agency"])),
    ("SetPortfolioStatus", WRITE, "operator",
     lambda x: p.SetPortfolioStatusRequest(portfolio_id=x["agency"], status=t.PORTFOLIO_STATUS_ACTIVE), None),
    ("SetSystemUserTier", WRITE, "operator",
     lambda x: p.SetSystemUserTierRequest(portfolio_id=x["acme"], system_user_tier=t.SYSTEM_USER_TIER_ADVANCED),
     lambda x, r: x.update(check_portfolio=x["acme"])),
    ("AddApp", WRITE, "operator", lambda x: p.AddAppRequest(portfolio_id=x["acme"], name="CRM"),
     lambda x, r: x.update(app=r.app.id)),
    ("ListApps", READ, "operator", lambda x: p.ListAppsRequest(portfolio_id=x["acme"]), None),
    ("CreateSystemUser", WRITE, "operator",
     lambda x: p.CreateSystemUserRequest(portfolio_id=x["acme"], name="ops", role=t.ROLE_ADMIN),
     lambda x, r: x.update(admin_su=r.system_user.id)),
    ("GenerateToken", WRITE, "operator",
     lambda x: tk.GenerateTokenRequest(system_user_id=x["admin_su"], app_id=x["app"],
                                       scopes=[t.SCOPE_BUSINESS_MANAGEMENT, t.SCOPE_ADS_MANAGEMENT]),
     lambda x, r: x.update(admin_token=r.secret, admin_token_id=r.token.id)),
    ("CreateSystemUser", WRITE, "admin",
     lambda x: p.CreateSystemUserRequest(portfolio_id=x["acme"], name="bot", role=t.ROLE_EMPLOYEE),
     lambda x, r: x.update(bot=r.system_user.id)),
    ("ListSystemUsers", READ, "admin", lambda x: p.ListSystemUsersRequest(portfolio_id=x["acme"]), None),
    ("AddPerson", WRITE, "admin", lambda x: p.AddPersonRequest(portfolio_id=x["acme"], name="Ana", role=t.ROLE_EMPLOYEE),
     lambda x, r: x.update(ana=r.person.id)),
    ("AddPerson", WRITE, "operator",
     lambda x: p.AddPersonRequest(portfolio_id=x["agency"], name="Cy", role=t.ROLE_ADMIN),
     lambda x, r: x.update(cy=r.person.id)),
    ("GetPerson", READ, "admin", lambda x: p.GetPersonRequest(person_id=x["ana"]), None),
    ("ListPeople", READ, "admin", lambda x: p.ListPeopleRequest(portfolio_id=x["acme"]), None),
    ("SetPersonRole", WRITE, "admin", lambda x: p.SetPersonRoleRequest(person_id=x["ana"], role=t.ROLE_ADMIN), None),
    ("SetPersonRole", WRITE, "admin", lambda x: p.SetPersonRoleRequest(person_id=x["ana"], role=t.ROLE_EMPLOYEE), None),
    ("AddAsset", WRITE, "admin",
     lambda x: p.AddAssetRequest(portfolio_id=x["acme"], type=t.ASSET_TYPE_AD_ACCOUNT, name="Main ads"),
     lambda x, r: x.update(ads=r.asset.id)),
    ("AddAsset", WRITE, "admin", lambda x: p.AddAssetRequest(portfolio_id=x["acme"], type=t.ASSET_TYPE_PAGE, name="Page"),
     lambda x, r: x.update(page=r.asset.id)),
    ("GetAsset", READ, "admin", lambda x: p.GetAssetRequest(asset_id=x["ads"]), None),
    ("ListAssets", READ, "admin", lambda x: p.ListAssetsRequest(portfolio_id=x["acme"]), None),
    ("AssignTasks", WRITE, "admin",
     lambda x: a.AssignTasksRequest(principal=SU(x["bot"]), asset_id=x["ads"], tasks=[t.ASSET_TASK_ADVERTISE]), None),
    ("AssignTasks", WRITE, "admin",
     lambda x: a.AssignTasksRequest(principal=PERSON(x["ana"]), asset_id=x["page"], tasks=[t.ASSET_TASK_ANALYZE]), None),
    ("ListAssignmentsByPrincipal", READ, "admin",
     lambda x: a.ListAssignmentsByPrincipalRequest(principal=SU(x["bot"])), None),
    ("ListAssignmentsByAsset", READ, "admin", lambda x: a.ListAssignmentsByAssetRequest(asset_id=x["ads"]), None),
    ("UnassignTasks", WRITE, "admin", lambda x: a.UnassignTasksRequest(principal=PERSON(x["ana"]), asset_id=x["page"]),
     None),
    ("AddPartner", WRITE, "operator",
     lambda x: a.AddPartnerRequest(portfolio_id=x["acme"], partner_portfolio_id=x["agency"]), None),
    ("ListPartners", READ, "operator", lambda x: a.ListPartnersRequest(portfolio_id=x["acme"]), None),
    ("ShareAsset", WRITE, "admin",
     lambda x: a.ShareAssetRequest(asset_id=x["ads"], partner_portfolio_id=x["agency"], tasks=[t.ASSET_TASK_ADVERTISE]),
     None),
    ("UpdateShare", WRITE, "admin",
     lambda x: a.UpdateShareRequest(asset_id=x["ads"], partner_portfolio_id=x["agency"], tasks=[t.ASSET_TASK_ANALYZE]),
     None),
    ("ListShares", READ, "operator", lambda x: a.ListSharesRequest(portfolio_id=x["acme"]), None),
    ("RequestShare", WRITE, "operator",
     lambda x: a.RequestShareRequest(portfolio_id=x["agency"], asset_id=x["page"], tasks=[t.ASSET_TASK_ANALYZE]),
     lambda x, r: x.update(request_one=r.share_request.id)),
    ("ListShareRequests", READ, "operator", lambda x: a.ListShareRequestsRequest(portfolio_id=x["acme"]), None),
    ("DeclineShareRequest", WRITE, "admin", lambda x: a.DeclineShareRequestRequest(share_request_id=x["request_one"]),
     None),
    ("RequestShare", WRITE, "operator",
     lambda x: a.RequestShareRequest(portfolio_id=x["agency"], asset_id=x["page"], tasks=[t.ASSET_TASK_ANALYZE]),
     lambda x, r: x.update(request_two=r.share_request.id)),
    ("ApproveShareRequest", WRITE, "admin", lambda x: a.ApproveShareRequestRequest(share_request_id=x["request_two"]),
     None),
    ("UnshareAsset", WRITE, "admin",
     lambda x: a.UnshareAssetRequest(asset_id=x["page"], partner_portfolio_id=x["agency"]), None),
    ("CreateServiceCredential", WRITE, "operator", lambda x: p.CreateServiceCredentialRequest(name="backend"),
     lambda x, r: x.update(service=r.secret, service_id=r.credential.id)),
    ("ListServiceCredentials", READ, "operator", lambda x: p.ListServiceCredentialsRequest(), None),
    ("ListTokens", READ, "admin", lambda x: tk.ListTokensRequest(system_user_id=x["admin_su"]), None),
    ("InspectToken", READ, "operator", lambda x: tk.InspectTokenRequest(token=x["admin_token"]), None),
    ("GenerateToken", WRITE, "admin",
     lambda x: tk.GenerateTokenRequest(system_user_id=x["bot"], app_id=x["app"], scopes=[t.SCOPE_ADS_READ]),
     lambda x, r: x.update(bot_token=r.secret, bot_token_id=r.token.id)),
    ("CheckPermission", READ, "operator",
     lambda x: c.CheckPermissionRequest(system_user_id=x["bot"], asset_id=x["ads"], task=t.ASSET_TASK_ANALYZE), None),
    ("CheckPermission", READ, "operator",
     lambda x: c.CheckPermissionRequest(token=x["bot_token"], asset_id=x["ads"], task=t.ASSET_TASK_MANAGE,
                                        explain=True), None),
    ("CheckPermission", READ, "service",
     lambda x: c.CheckPermissionRequest(person_id=x["cy"], asset_id=x["ads"], task=t.ASSET_TASK_ANALYZE), None),
    ("BatchCheckPermissions", READ, "operator",
     lambda x: c.BatchCheckPermissionsRequest(checks=[
         c.CheckItem(system_user_id=x["bot"], asset_id=x["ads"], task=t.ASSET_TASK_ANALYZE),
         c.CheckItem(person_id=x["ana"], asset_id=x["page"], task=t.ASSET_TASK_MANAGE),
         c.CheckItem(token=x["bot_token"], asset_id=x["ads"], task=t.ASSET_TASK_ANALYZE)], explain=True), None),
    ("ListAccessibleAssets", READ, "operator", lambda x: c.ListAccessibleAssetsRequest(principal=SU(x["bot"])), None),
    ("ListAssetPrincipals", READ, "operator", lambda x: c.ListAssetPrincipalsRequest(asset_id=x["ads"]), None),
    ("ListAuditEvents", READ, "operator", lambda x: ch.ListAuditEventsRequest(portfolio_id=x["acme"]), None),
    ("RevokeToken", WRITE, "admin", lambda x: tk.RevokeTokenRequest(token_id=x["bot_token_id"]), None),
    ("RevokeAllTokens", WRITE, "admin", lambda x: tk.RevokeAllTokensRequest(system_user_id=x["bot"]), None),
    ("RemoveAsset", WRITE, "admin", lambda x: p.RemoveAssetRequest(asset_id=x["page"]), None),
    ("RemovePerson", WRITE, "admin", lambda x: p.RemovePersonRequest(person_id=x["ana"]), None),
    ("RemoveSystemUser", WRITE, "admin", lambda x: p.RemoveSystemUserRequest(system_user_id=x["bot"]), None),
    ("RemovePartner", WRITE, "operator",
     lambda x: a.RemovePartnerRequest(portfolio_id=x["acme"], partner_portfolio_id=x["agency"]), None),
    ("RevokeServiceCredential", WRITE, "operator",
     lambda x: p.RevokeServiceCredentialRequest(credential_id=x["service_id"]), None),
    # Reads after the writes: every effect is seen alike through both.
    ("ListAuditEvents", READ, "operator", lambda x: ch.ListAuditEventsRequest(), None),
    # Watch: the first changes of the stream, the same through both; an admin naming no portfolio is refused.
    ("Watch", STREAM, "operator", lambda x: ch.WatchRequest(after_revision=3), None),
    ("Watch", STREAM, "admin", lambda x: ch.WatchRequest(after_revision=3, portfolio_id=x["acme"]), None),
    ("Watch", STREAM, "admin", lambda x: ch.WatchRequest(), None),
    ("SetExternalId", WRITE, "operator",
     lambda x: p.SetExternalIdRequest(kind=t.TARGET_KIND_PORTFOLIO, id=x["acme"], external_id="crm-acme"), None),
    ("LookupExternalId", READ, "operator",
     lambda x: p.LookupExternalIdRequest(kind=t.TARGET_KIND_PORTFOLIO, ref=t.ExternalRef(external_id="crm-acme")),
     None),
    ("PreviewChanges", FAIL, "operator", lambda x: pv.PreviewChangesRequest(), None),
    ("ListAssets", READ, "admin", lambda x: p.ListAssetsRequest(portfolio_id=x["acme"]), None),
    ("ListTokens", READ, "operator", lambda x: tk.ListTokensRequest(system_user_id=x["bot"]), None),
    # Refusals: the same status and ErrorDetail through both.
    ("GetPortfolio", FAIL, "nobody", lambda x: p.GetPortfolioRequest(portfolio_id=x["acme"]), None),
    ("GetPortfolio", FAIL, "bad", lambda x: p.GetPortfolioRequest(portfolio_id=x["acme"]), None),
    ("GetAsset", FAIL, "operator", lambda x: p.GetAssetRequest(asset_id=999999), None),
    ("CreatePortfolio", FAIL, "admin", lambda x: p.CreatePortfolioRequest(name="not mine"), None),
    ("AssignTasks", FAIL, "admin",
     lambda x: a.AssignTasksRequest(principal=SU(x["admin_su"]), asset_id=x["ads"], tasks=[t.ASSET_TASK_MODERATE]),
     None),
    ("AddPartner", FAIL, "operator",
     lambda x: a.AddPartnerRequest(portfolio_id=x["acme"], partner_portfolio_id=x["acme"]), None),
    ("CheckPermission", FAIL, "operator",
     lambda x: c.CheckPermissionRequest(system_user_id=x["admin_su"], asset_id=x["ads"],
                                        task=t.ASSET_TASK_UNSPECIFIED), None),
    ("CheckPermission", FAIL, "revoked-service",
     lambda x: c.CheckPermissionRequest(person_id=x["cy"], asset_id=x["ads"], task=t.ASSET_TASK_ANALYZE), None),
]


def credentials(ctx, caller, key):
    """The credential and on-behalf-of person of a step's caller."""
    return {
        None: ("", 0),
        "nobody": ("", 0),
        "operator": (key, 0),
        "admin": (ctx.get("admin_token", ""), 0),
        "service": (ctx.get("service", ""), ctx.get("cy", 0)),
        "revoked-service": (ctx.get("service", ""), ctx.get("cy", 0)),
        "bad": ("ptk_1_" + "A" * 43, 0),
    }[caller]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--native-port", type=int, required=True)
    parser.add_argument("--grpc-port", type=int, required=True)
    parser.add_argument("--key", required=True, help="the operator key")
    args = parser.parse_args()

    service = service_pb2.DESCRIPTOR.services_by_name["Portico"]
    every = {method.name for method in service.methods}
    walked = {step[0] for step in STEPS}
    expect(walked == every, "the walk has a step for every RPC; missing: %s, unknown: %s"
           % (sorted(every - walked), sorted(walked - every)))

    native = Client(args.host, args.native_port)
    grpc_client = GrpcClient(args.host, args.grpc_port)
    ctx = {}
    for rpc, kind, caller, build, after in STEPS:
        name = "".join("_" + letter.lower() if letter.isupper() else letter for letter in rpc).lstrip("_")
        credential, person = credentials(ctx, caller, args.key)
        request = build(ctx)
        what = "%s (%s) as %s" % (rpc, kind, caller)
        if kind == READ:
            via_grpc = getattr(grpc_client, name)(request, credential=credential, on_behalf_of_person_id=person)
            via_native = getattr(native, name)(request, credential=credential, on_behalf_of_person_id=person)
            expect(via_grpc == via_native, "%s: gRPC answered\n%s\nthe native protocol\n%s" % (what, via_grpc, via_native))
            expect(via_grpc.SerializeToString(deterministic=True) == via_native.SerializeToString(deterministic=True),
                   "%s: the same bytes" % what)
        elif kind == STREAM:
            streamed = []
            for client in (grpc_client, native):
                stream = client.watch(request, credential=credential, on_behalf_of_person_id=person)
                try:
                    streamed.append([next(stream) for _ in range(5)])
                except PorticoError as error:
                    streamed.append((error.code, error.reason, error.meta_code, error.meta_subcode))
                finally:
                    stream.close()
            expect(streamed[0] == streamed[1], "%s: gRPC streamed\n%s\nthe native protocol\n%s"
                   % (what, streamed[0], streamed[1]))
        elif kind == WRITE:
            answer = getattr(grpc_client, name)(request, credential=credential, on_behalf_of_person_id=person)
            newest = native.get_server_info().revision
            expect(answer.revision == newest, "%s: answered revision %d, the native protocol's newest is %d"
                   % (what, answer.revision, newest))
            if after is not None:
                after(ctx, answer)
            check_effect(native, args.key, rpc, answer, ctx, what)
        else:
            # The native side on a new connection: gRPC verifies every call's credential afresh, where a
            # native connection remembers the callers it has verified (a credential revoked since is then
            # refused as revoked, CREDENTIAL_INVALID, rather than as unknown, TOKEN_INVALID).
            failures = []
            fresh = Client(args.host, args.native_port)
            for client in (grpc_client, fresh):
                try:
                    getattr(client, name)(request, credential=credential, on_behalf_of_person_id=person)
                    failures.append(None)
                except PorticoError as error:
                    failures.append((error.code, error.reason, error.meta_code, error.meta_subcode, error.field))
            fresh.close()
            expect(failures[0] is not None and failures[0] == failures[1],
                   "%s: gRPC refused it with %s, the native protocol with %s" % (what, failures[0], failures[1]))

    check_health(args.host, args.grpc_port)
    grpc_client.close()
    native.close()
    print("%d passed, 0 failed" % PASSED)


def check_effect(native, key, rpc, answer, ctx, what):
    """A write's answer, read back through the native protocol where a read shows it."""
    if rpc == "CreatePortfolio" or rpc in ("SetPortfolioStatus", "SetSystemUserTier"):
        seen = native.get_portfolio(portfolio_id=answer.portfolio.id, credential=key).portfolio
        expect(seen == answer.portfolio, "%s: the native protocol reads the portfolio it answered" % what)
    elif rpc in ("AddPerson", "SetPersonRole"):
        seen = native.get_person(person_id=answer.person.id, credential=key).person
        expect(seen == answer.person, "%s: the native protocol reads the person it answered" % what)
    elif rpc == "AddAsset":
        seen = native.get_asset(asset_id=answer.asset.id, credential=key).asset
        expect(seen == answer.asset, "%s: the native protocol reads the asset it answered" % what)
    elif rpc == "GenerateToken":
        seen = native.inspect_token(token=answer.secret, credential=key)
        expect(seen.valid and seen.token == answer.token, "%s: the native protocol inspects the token" % what)
    elif rpc == "CreateServiceCredential":
        checked = native.check_permission(person_id=ctx["cy"], asset_id=ctx["ads"], task=t.ASSET_TASK_ANALYZE,
                                          credential=answer.secret, on_behalf_of_person_id=ctx["cy"])
        expect(checked.revision == answer.revision, "%s: the native protocol takes the new credential" % what)
    elif rpc == "AssignTasks":
        listed = native.list_assignments_by_asset(asset_id=answer.assignment.asset_id, credential=key)
        expect(answer.assignment in listed.assignments, "%s: the native protocol lists the assignment" % what)
    elif rpc == "RevokeToken":
        expect(not native.inspect_token(token=ctx["bot_token"], credential=key).valid,
               "%s: the native protocol sees the token revoked" % what)


def check_health(host, port):
    """gRPC's health service, through grpcio-health-checking's stubs (not generated from our proto)."""
    with grpc.insecure_channel("%s:%d" % (host, port)) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for name in ("", "portico.v1.Portico"):
            answer = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=10)
            expect(answer.status == health_pb2.HealthCheckResponse.SERVING, "health: %r is SERVING" % name)
        try:
            health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=10)
            expect(False, "health: an unknown service is NOT_FOUND")
        except grpc.RpcError as error:
            expect(error.code() == grpc.StatusCode.NOT_FOUND, "health: an unknown service is NOT_FOUND")
        watch = health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=10)
        first = next(watch)
        expect(first.status == health_pb2.HealthCheckResponse.SERVING, "health: Watch starts with SERVING")
        watch.cancel()


if __name__ == "__main__":
    main()
