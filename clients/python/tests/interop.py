#!/usr/bin/python3
"""Drives a live Portico server through the Python client: every check rule, every error status,
token secrets shown once, pagination. Exits non-zero on the first wrong answer; with --out, writes
the checks and their answers as JSON so that another client can ask the same and compare.

    interop.py --port 7700 --key pok_... [--out answers.json]
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from portico import Client, PorticoError  # noqa: E402
from portico.v1 import access_pb2, checks_pb2, preview_pb2, types_pb2 as t  # noqa: E402

PASSED = 0


def expect(condition, what):
    global PASSED
    if not condition:
        print("FAILED: %s" % what)
        print("%d passed, 1 failed" % PASSED)
        sys.exit(1)
    PASSED += 1


def expect_error(code, call, what):
    try:
        call()
    except PorticoError as error:
        expect(error.code == code, "%s: expected %s, got %s" % (what, code, error))
        return error
    expect(False, "%s: expected %s, got success" % (what, code))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7700)
    parser.add_argument("--key", required=True, help="the operator key")
    parser.add_argument("--out", help="write the checks and answers here as JSON")
    args = parser.parse_args()

    op = Client(args.host, args.port, credential=args.key)
    P = lambda kind, id: t.Principal(kind=kind, id=id)  # noqa: E731
    SU, PERSON = t.PRINCIPAL_KIND_SYSTEM_USER, t.PRINCIPAL_KIND_PERSON

    # An owner portfolio and a partner, built as the README walk-through does.
    acme = op.create_portfolio(name="Acme", system_user_tier=t.SYSTEM_USER_TIER_STANDARD).portfolio.id
    app = op.add_app(portfolio_id=acme, name="CRM")
    expect(app.app_secret.startswith("pas_"), "the app secret is shown when the app is added")
    admin_su = op.create_system_user(portfolio_id=acme, name="ops", role=t.ROLE_ADMIN).system_user.id
    generated = op.generate_token(system_user_id=admin_su, app_id=app.app.id,
                                  scopes=[t.SCOPE_BUSINESS_MANAGEMENT, t.SCOPE_ADS_MANAGEMENT])
    admin_token = generated.secret
    expect(admin_token.startswith("ptk_"), "the token secret is shown at generation")
    listed = op.list_tokens(system_user_id=admin_su)
    expect(len(listed.tokens) == 1 and "secret" not in [f.name for f in listed.tokens[0].DESCRIPTOR.fields],
           "listed tokens carry no secret")
    admin = Client(args.host, args.port, credential=admin_token)
    ads = admin.add_asset(portfolio_id=acme, type=t.ASSET_TYPE_AD_ACCOUNT, name="Main ads").asset.id
    page = admin.add_asset(portfolio_id=acme, type=t.ASSET_TYPE_PAGE, name="Page").asset.id
    worker = admin.create_system_user(portfolio_id=acme, name="bot", role=t.ROLE_EMPLOYEE).system_user.id
    admin.assign_tasks(principal=P(SU, worker), asset_id=ads, tasks=[t.ASSET_TASK_ADVERTISE])
    boss = op.add_person(portfolio_id=acme, name="Ana", role=t.ROLE_ADMIN).person.id
    clerk = op.add_person(portfolio_id=acme, name="Ben", role=t.ROLE_EMPLOYEE).person.id
    worker_token = admin.generate_token(system_user_id=worker, app_id=app.app.id, scopes=[t.SCOPE_ADS_READ]).secret

    agency = op.create_portfolio(name="Agency").portfolio.id
    agency_admin = op.add_person(portfolio_id=agency, name="Cy", role=t.ROLE_ADMIN).person.id
    agency_clerk = op.add_person(portfolio_id=agency, name="Di", role=t.ROLE_EMPLOYEE).person.id
    op.add_partner(portfolio_id=acme, partner_portfolio_id=agency)
    admin.share_asset(asset_id=ads, partner_portfolio_id=agency, tasks=[t.ASSET_TASK_ADVERTISE])
    op.assign_tasks(principal=P(PERSON, agency_clerk), asset_id=ads, tasks=[t.ASSET_TASK_ANALYZE])

    closed = op.create_portfolio(name="Closed").portfolio.id
    closed_admin = op.add_person(portfolio_id=closed, name="Ed", role=t.ROLE_ADMIN).person.id
    closed_ads = op.add_asset(portfolio_id=closed, type=t.ASSET_TYPE_AD_ACCOUNT, name="x").asset.id
    op.set_portfolio_status(portfolio_id=closed, status=t.PORTFOLIO_STATUS_DISABLED)

    revoked = admin.generate_token(system_user_id=worker, app_id=app.app.id, scopes=[t.SCOPE_ADS_READ])
    admin.revoke_token(token_id=revoked.token.id)

    # Every check rule: (subject, asset, task, allowed, reason).
    A = t.ASSET_TASK_ANALYZE
    cases = [
        ({"person_id": boss}, ads, t.ASSET_TASK_MANAGE, True, "ADMIN_ROLE"),
        ({"system_user_id": admin_su}, page, t.ASSET_TASK_MANAGE, True, "ADMIN_ROLE"),
        ({"system_user_id": worker}, ads, A, True, "ASSIGNED"),
        ({"system_user_id": worker}, ads, t.ASSET_TASK_MANAGE, False, "TASK_NOT_GRANTED"),
        ({"person_id": clerk}, ads, A, False, "NOT_ASSIGNED"),
        ({"person_id": agency_admin}, ads, t.ASSET_TASK_ADVERTISE, True, "SHARED_ADMIN_ROLE"),
        ({"person_id": agency_admin}, ads, t.ASSET_TASK_MANAGE, False, "TASK_NOT_SHARED"),
        ({"person_id": agency_clerk}, ads, A, True, "SHARED_ASSIGNED"),
        ({"person_id": agency_admin}, page, A, False, "NOT_SHARED"),
        ({"person_id": 999999}, ads, A, False, "PRINCIPAL_NOT_FOUND"),
        ({"person_id": boss}, 999999, A, False, "ASSET_NOT_FOUND"),
        ({"person_id": boss}, ads, t.ASSET_TASK_MODERATE, False, "TASK_NOT_VALID_FOR_ASSET_TYPE"),
        ({"person_id": closed_admin}, closed_ads, A, False, "PORTFOLIO_DISABLED"),
        ({"token": worker_token}, ads, A, True, "ASSIGNED"),
        ({"token": worker_token}, ads, t.ASSET_TASK_ADVERTISE, False, "SCOPE_MISSING"),
        ({"token": revoked.secret}, ads, A, False, "TOKEN_REVOKED"),
        ({"token": "ptk_1_" + "A" * 43}, ads, A, False, "TOKEN_NOT_FOUND"),
    ]
    answers = []
    for subject, asset, task, allowed, reason in cases:
        answer = op.check_permission(asset_id=asset, task=task, **subject)
        got = checks_pb2.DecisionReason.Name(answer.reason).replace("DECISION_REASON_", "")
        expect(answer.allowed == allowed and got == reason,
               "check %s on %s %s: expected %s %s, got %s %s" % (subject, asset, t.AssetTask.Name(task), allowed, reason, answer.allowed, got))
        answers.append({"subject": subject, "asset": asset, "task": t.AssetTask.Name(task),
                        "allowed": answer.allowed, "reason": got})
    explained = op.check_permission(system_user_id=worker, asset_id=ads, task=t.ASSET_TASK_MANAGE, explain=True)
    expect(len(explained.explanation) > 0 and not explained.explanation[-1].passed, "explain shows the rule that denied")
    batch = op.batch_check_permissions(checks=[
        dict(asset_id=asset, task=task, **subject) for subject, asset, task, _, _ in cases])
    expect([r.allowed for r in batch.results] == [c[3] for c in cases], "a batch answers in request order")

    # Every error status a client meets.
    bad = Client(args.host, args.port, credential="ptk_1_nope")
    expect_error("UNAUTHENTICATED", lambda: bad.get_portfolio(portfolio_id=acme), "a bad credential")
    expect_error("UNAUTHENTICATED", lambda: op.get_portfolio(portfolio_id=acme, credential=revoked.secret), "a revoked token")
    worker_client = Client(args.host, args.port, credential=worker_token)
    error = expect_error("PERMISSION_DENIED", lambda: worker_client.add_asset(portfolio_id=acme, type=t.ASSET_TYPE_PAGE, name="p"),
                         "a regular system user adds an asset")
    expect(error.meta_code in (10, 200), "PERMISSION_DENIED carries Meta's code")
    error = expect_error("INVALID_ARGUMENT", lambda: admin.assign_tasks(principal=P(SU, worker), asset_id=ads, tasks=[t.ASSET_TASK_MODERATE]),
                         "a task the asset type does not have")
    expect(error.meta_code == 100 and error.meta_subcode == 1752129, "invalid task carries Meta 100/1752129")
    expect_error("NOT_FOUND", lambda: op.get_asset(asset_id=999999), "an unknown asset")
    expect_error("ALREADY_EXISTS", lambda: op.add_partner(portfolio_id=acme, partner_portfolio_id=agency), "a partner added twice")
    expect_error("RESOURCE_EXHAUSTED", lambda: op.create_system_user(portfolio_id=acme, name="ops2", role=t.ROLE_ADMIN), "a second admin system user")
    bare = op.create_portfolio(name="Bare", system_user_tier=t.SYSTEM_USER_TIER_STANDARD).portfolio.id
    expect_error("FAILED_PRECONDITION", lambda: op.create_system_user(portfolio_id=bare, name="su", role=t.ROLE_EMPLOYEE), "a system user without an app")
    expect_error("RESOURCE_EXHAUSTED", lambda: op.create_system_user(portfolio_id=acme, name="second", role=t.ROLE_EMPLOYEE), "over the tier's limit")
    expect_error("UNIMPLEMENTED", lambda: op.call("no_such_method", t.Asset(), method_number=9999), "an unknown method")

    # Pagination: every person exactly once, in id order.
    for index in range(5):
        op.add_person(portfolio_id=agency, name="p%d" % index, role=t.ROLE_EMPLOYEE)
    seen, token, pages = [], "", 0
    while True:
        listed = op.list_people(portfolio_id=agency, page_size=2, page_token=token)
        seen += [p.id for p in listed.people]
        pages += 1
        token = listed.next_page_token
        if not token:
            break
    expect(len(seen) == 7 and seen == sorted(set(seen)) and pages == 4, "pages of 2 list 7 people once each: %s" % seen)

    # Idempotency keys: a retry is answered as the first change and applies nothing.
    # Keys are the caller's own: one of its own per run, as two runs may share the server and the operator.
    key = "py-add-flo-" + os.urandom(8).hex()
    first = op.add_person(portfolio_id=agency, name="Flo", role=t.ROLE_EMPLOYEE, idempotency_key=key)
    again = op.add_person(portfolio_id=agency, name="Flo", role=t.ROLE_EMPLOYEE, idempotency_key=key)
    expect(again.person.id == first.person.id and again.revision == first.revision, "a retry with its key: the first answer")
    expect_error("FAILED_PRECONDITION", lambda: op.add_person(portfolio_id=agency, name="Gus", role=t.ROLE_EMPLOYEE,
                                                             idempotency_key=key), "a key reused for another request")

    # External ids: created with one, found and checked by it.
    ext = op.add_asset(portfolio_id=acme, type=t.ASSET_TYPE_AD_ACCOUNT, name="ext", external_id="act_1234567890").asset
    expect(ext.external_id == "act_1234567890", "the asset carries its external id")
    op.set_external_id(kind=t.TARGET_KIND_PERSON, id=clerk, external_id="crm:user:42")
    ref = lambda external: t.ExternalRef(portfolio_id=acme, external_id=external)  # noqa: E731
    expect(op.lookup_external_id(kind=t.TARGET_KIND_ASSET, ref=ref("act_1234567890")).id == ext.id, "lookup by external id")
    op.assign_tasks(principal=P(PERSON, clerk), asset_id=ext.id, tasks=[t.ASSET_TASK_ANALYZE])
    by_external = op.check_permission(person_external=ref("crm:user:42"), asset_external=ref("act_1234567890"), task=A)
    expect(by_external.allowed, "a check by external ids")
    expect_error("INVALID_ARGUMENT", lambda: op.add_person(portfolio_id=acme, name="x", role=t.ROLE_EMPLOYEE, external_id="no spaces"),
                 "a malformed external id")

    # Expiring assignments: an expiry in the past is refused.
    expect_error("INVALID_ARGUMENT", lambda: op.assign_tasks(principal=P(PERSON, clerk), asset_id=ext.id, tasks=[A],
                                                            expires_at_unix_micros=1), "an expiry not after now")

    # A preview of an unshare: the partner's clerk would lose ANALYZE; nothing is applied.
    preview = admin.preview_changes(changes=[preview_pb2.ProposedChange(
        unshare_asset=access_pb2.UnshareAssetRequest(asset_id=ads, partner_portfolio_id=agency))])
    lost = {(row.principal.id, row.asset_id): list(row.lost) for row in preview.access}
    expect((agency_clerk, ads) in lost and A in lost[(agency_clerk, ads)], "a preview of an unshare: %s" % lost)
    expect(op.check_permission(person_id=agency_clerk, asset_id=ads, task=A).allowed, "a preview applies nothing")

    if args.out:
        with open(args.out, "w") as out:
            json.dump({"checks": answers}, out, indent=1)
    print("%d passed, 0 failed" % PASSED)


if __name__ == "__main__":
    main()
