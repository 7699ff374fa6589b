"""`python -m offline_preview diff BASE.json HEAD.json [--fail-on-widening]` over real plans: the dev
stack's JSON plan, printed by the program, then changed the way a pull request would change it."""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import PROJECT_ROOT
from tests.support.iam_eval import Request, allowed
from tests.support.preview import Preview, run_preview

Plan = dict[str, Any]

POD_ROLE = "poolside-dev-eks-pod-role"
BASTION_ROLE = "poolside-dev-bastion-role"
CUSTOMIZATION_ROLE = "poolside-dev-bedrock-customization-role"
DATA_BUCKET = "arn:aws:s3:::poolside-dev-123456789012"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/c0f7aa90-c895-5304-8986-1bac593c7888"
POLICY = "aws:iam/policy:Policy"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"


def plan_of(stack: str) -> Plan:
    """The stack's plan as `python -m offline_preview --stack <stack> --format json` prints it."""
    result = run_preview("--stack", stack, "--format", "json")
    assert result.exit_code == 0, result.stderr
    plan: Plan = json.loads(result.stdout)
    return plan


@pytest.fixture(scope="module")
def dev_plan() -> Plan:
    return plan_of("dev")


@pytest.fixture(scope="module")
def govcloud_plan() -> Plan:
    return plan_of("govcloud")


def diff(tmp_path: Path, base: Plan, head: Plan, *flags: str) -> Preview:
    """`python -m offline_preview diff base.json head.json <flags>`, run in this process."""
    base_file, head_file = tmp_path / "base.json", tmp_path / "head.json"
    base_file.write_text(json.dumps(base, indent=2))
    head_file.write_text(json.dumps(head, indent=2))
    return run_preview("diff", str(base_file), str(head_file), *flags)


def inputs(plan: Plan, type_: str, name: str) -> dict[str, Any]:
    """The inputs (mutable, in `plan`) of the one resource of `type_` named `name`."""
    [found] = [
        step["newState"]["inputs"]
        for step in plan["steps"]
        if step["newState"]["type"] == type_ and step["newState"]["inputs"].get("name") == name
    ]
    assert isinstance(found, dict)
    return found


def edit_document(plan: Plan, type_: str, name: str, key: str, edit: Callable[[Any], None]) -> None:
    """Parse the JSON document input `key` of a resource, edit it in place, write it back."""
    holder = inputs(plan, type_, name)
    document = json.loads(holder[key])
    edit(document)
    holder[key] = json.dumps(document, separators=(",", ":"))


def edit_policy(plan: Plan, name: str, edit: Callable[[list[dict[str, Any]]], None]) -> None:
    edit_document(plan, POLICY, name, "policy", lambda d: edit(d["Statement"]))


def edit_trust(plan: Plan, role: str, edit: Callable[[list[dict[str, Any]]], None]) -> None:
    edit_document(plan, ROLE, role, "assumeRolePolicy", lambda d: edit(d["Statement"]))


def by_sid(statements: list[dict[str, Any]], sid: str) -> dict[str, Any]:
    [found] = [s for s in statements if s.get("Sid") == sid]
    return found


def changed(plan: Plan, *edits: Callable[[Plan], None]) -> Plan:
    head = copy.deepcopy(plan)
    for edit in edits:
        edit(head)
    return head


def test_identical_plans_print_no_iam_changes(tmp_path: Path, dev_plan: Plan) -> None:
    result = diff(tmp_path, dev_plan, dev_plan, "--fail-on-widening")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "No IAM changes.\n", "")


def test_changes_outside_iam_are_no_iam_changes(tmp_path: Path, dev_plan: Plan) -> None:
    """A policy's description and tags, other resources and the order of the steps are not IAM."""
    head = changed(
        dev_plan,
        lambda p: inputs(p, POLICY, "poolside-dev-pod-s3-access").update(
            description="reworded", tags={"owner": "someone else"}
        ),
        lambda p: inputs(p, "aws:ecr/repository:Repository", "poolside-dev/api").update(
            imageTagMutability="MUTABLE"
        ),
    )
    random.Random(7).shuffle(head["steps"])
    result = diff(tmp_path, dev_plan, head, "--fail-on-widening")
    assert (result.exit_code, result.stdout) == (0, "No IAM changes.\n")


def reorder_everything(plan: Plan) -> None:
    """Statements, their lists and their condition values reversed, every Sid renamed."""

    def reverse(statements: list[dict[str, Any]]) -> None:
        statements.reverse()
        for statement in statements:
            if "Sid" in statement:
                statement["Sid"] = "Renamed" + statement["Sid"]
            for element in ("Action", "Resource"):
                if isinstance(statement.get(element), list):
                    statement[element].reverse()

    for step in plan["steps"]:
        state = step["newState"]
        if state["type"] == POLICY:
            edit_policy(plan, state["inputs"]["name"], reverse)
        elif state["type"] == ROLE:
            edit_trust(plan, state["inputs"]["name"], reverse)


def split_and_merge(plan: Plan) -> None:
    """The pod's S3 statement split in two, its Bedrock invocation statements merged into one
    (two of them: same actions, no conditions, resources together), attachments reordered."""

    def split(statements: list[dict[str, Any]]) -> None:
        objects = by_sid(statements, "PoolsideBucketReadWriteObjects")
        objects["Action"] = ["s3:GetObject"]
        statements.append({**objects, "Sid": "PutObjects", "Action": ["s3:PutObject"]})

    def merge(statements: list[dict[str, Any]]) -> None:
        custom = by_sid(statements, "InvokeCustomModels")
        foundation = by_sid(statements, "InvokeFoundationModels")
        custom["Resource"] = [*custom["Resource"], *foundation["Resource"]]
        statements.remove(foundation)

    edit_policy(plan, "poolside-dev-pod-s3-access", split)
    edit_policy(plan, "poolside-dev-pod-bedrock-model-invocation", merge)


def test_reordered_statements_and_renamed_sids_are_no_iam_changes(
    tmp_path: Path, dev_plan: Plan
) -> None:
    result = diff(tmp_path, dev_plan, changed(dev_plan, reorder_everything), "--fail-on-widening")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "No IAM changes.\n", "")


def test_split_and_merged_statements_are_listed_but_not_widening(
    tmp_path: Path, dev_plan: Plan
) -> None:
    head = changed(dev_plan, split_and_merge, reorder_everything)
    result = diff(tmp_path, dev_plan, head, "--fail-on-widening")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "## IAM changes\n"
        "\n"
        "No widening: HEAD allows no request BASE did not. Narrowing: 0. Changed: 1 of 26 "
        "IAM entries.\n"
        "\n"
        f"### role `{POD_ROLE}`\n"
        "\n"
        "Changes:\n"
        "\n"
        "- policies changed: customer-managed `poolside-dev-pod-bedrock-model-invocation`, "
        "customer-managed `poolside-dev-pod-s3-access`\n"
    )


def add_action(plan: Plan) -> None:
    def edit(statements: list[dict[str, Any]]) -> None:
        by_sid(statements, "PoolsideBucketReadWriteObjects")["Action"].append("s3:DeleteObject")

    edit_policy(plan, "poolside-dev-pod-s3-access", edit)


def widen_resource(plan: Plan) -> None:
    def edit(statements: list[dict[str, Any]]) -> None:
        by_sid(statements, "ModelCheckpointsReadObjects")["Resource"] = ["arn:aws:s3:::*"]

    edit_policy(plan, "poolside-dev-inference-models-read", edit)


def drop_condition(plan: Plan) -> None:
    def edit(statements: list[dict[str, Any]]) -> None:
        del by_sid(statements, "PassCustomizationRoleToBedrock")["Condition"]

    edit_policy(plan, "poolside-dev-pod-bedrock-customization-job", edit)


def drop_trust_condition(plan: Plan) -> None:
    def edit(statements: list[dict[str, Any]]) -> None:
        del by_sid(statements, "BedrockCustomizationJobsAssumeRole")["Condition"]["ArnLike"]

    edit_trust(plan, CUSTOMIZATION_ROLE, edit)


def loosen_trust_condition(plan: Plan) -> None:
    """One more service account may assume the pod role."""

    def edit(statements: list[dict[str, Any]]) -> None:
        equals = by_sid(statements, "ServiceAccountsOfThisCluster")["Condition"]["StringEquals"]
        [sub] = [k for k in equals if k.endswith(":sub")]
        equals[sub] = [equals[sub], "system:serviceaccount:default:default"]

    edit_trust(plan, POD_ROLE, edit)


def add_principal(plan: Plan) -> None:
    def edit(statements: list[dict[str, Any]]) -> None:
        by_sid(statements, "Ec2InstanceProfile")["Principal"]["Service"] = [
            "ec2.amazonaws.com",
            "lambda.amazonaws.com",
        ]

    edit_trust(plan, BASTION_ROLE, edit)


def add_role(plan: Plan) -> None:
    """A copy of the pod role, named anew, with the pod's S3 policy attached."""
    steps = plan["steps"]
    [role] = [s for s in steps if s["newState"]["type"] == ROLE and s["urn"].endswith("::pod-role")]
    [attachment] = [
        s
        for s in steps
        if s["newState"]["type"] == ATTACHMENT and s["urn"].endswith("::pod-pod-s3-access")
    ]
    for step in (role, attachment):
        clone = copy.deepcopy(step)
        clone["urn"] = clone["newState"]["urn"] = step["urn"] + "-copy"
        if "assumeRolePolicy" in clone["newState"]["inputs"]:
            clone["newState"]["inputs"]["name"] = "poolside-dev-eks-copy-role"
        else:
            clone["newState"]["inputs"]["role"] = "poolside-dev-eks-copy-role"
        steps.append(clone)


def remove_deny(plan: Plan) -> None:
    def edit(statements: list[dict[str, Any]]) -> None:
        statements.remove(by_sid(statements, "DenyKeyDestruction"))

    edit_policy(plan, "poolside-dev-bastion-default", edit)


def narrow_deny(plan: Plan) -> None:
    def edit(statements: list[dict[str, Any]]) -> None:
        by_sid(statements, "DenyKeyDestruction")["Condition"] = {
            "StringEquals": {"aws:RequestedRegion": "us-east-1"}
        }

    edit_policy(plan, "poolside-dev-bastion-default", edit)


def attach_aws_managed_policy(plan: Plan) -> None:
    [attachment] = [
        s
        for s in plan["steps"]
        if s["newState"]["type"] == ATTACHMENT and s["urn"].endswith("::pod-pod-s3-access")
    ]
    clone = copy.deepcopy(attachment)
    clone["urn"] = clone["newState"]["urn"] = attachment["urn"] + "-admin"
    clone["newState"]["inputs"]["policyArn"] = "arn:aws:iam::aws:policy/AdministratorAccess"
    plan["steps"].append(clone)


def open_key_policy(plan: Plan) -> None:
    [key] = [s["newState"] for s in plan["steps"] if s["newState"]["type"] == "aws:kms/key:Key"]
    document = json.loads(key["inputs"]["policy"])
    document["Statement"][0]["Principal"]["AWS"] = [
        "arn:aws:iam::123456789012:root",
        "arn:aws:iam::999999999999:root",
    ]
    key["inputs"]["policy"] = json.dumps(document)


def remove_bucket_policy(plan: Plan) -> None:
    plan["steps"] = [s for s in plan["steps"] if not s["urn"].endswith("::data-policy")]


WIDENINGS: dict[str, tuple[Callable[[Plan], None], str]] = {
    "a new action": (
        add_action,
        f"role `{POD_ROLE}`: customer-managed `poolside-dev-pod-s3-access`: `s3:DeleteObject` on "
        f"`{DATA_BUCKET}/*`: a new action",
    ),
    "a wider resource": (
        widen_resource,
        "role `poolside-dev-eks-inference-role`: customer-managed "
        "`poolside-dev-inference-models-read`: `s3:GetObject` on `arn:aws:s3:::*`: "
        "a wider resource",
    ),
    "a removed condition": (
        drop_condition,
        f"role `{POD_ROLE}`: customer-managed `poolside-dev-pod-bedrock-customization-job`: "
        f"`iam:PassRole` on `arn:aws:iam::123456789012:role/{CUSTOMIZATION_ROLE}`: a looser "
        "condition: `StringEquals iam:PassedToService bedrock.amazonaws.com` dropped",
    ),
    "a removed trust condition": (
        drop_trust_condition,
        f"role `{CUSTOMIZATION_ROLE}`: trust policy: `Service bedrock.amazonaws.com` may "
        "`sts:AssumeRole`: a looser condition: `ArnLike aws:SourceArn "
        "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/*` dropped",
    ),
    "a looser condition": (
        loosen_trust_condition,
        f"role `{POD_ROLE}`: trust policy: `Federated arn:aws:iam::123456789012:oidc-provider/"
        "oidc.eks.us-east-1.amazonaws.com/id/D939D1BB5D5E8719E78C1560DEBE3B75` may "
        "`sts:AssumeRoleWithWebIdentity`: a looser condition: `StringEquals "
        "oidc.eks.us-east-1.amazonaws.com/id/D939D1BB5D5E8719E78C1560DEBE3B75:sub "
        "system:serviceaccount:poolside:core-api-sa` loosened to `StringEquals "
        "oidc.eks.us-east-1.amazonaws.com/id/D939D1BB5D5E8719E78C1560DEBE3B75:sub "
        "system:serviceaccount:default:default | system:serviceaccount:poolside:core-api-sa`",
    ),
    "a new principal": (
        add_principal,
        f"role `{BASTION_ROLE}`: trust policy: `Service lambda.amazonaws.com` may "
        "`sts:AssumeRole`: a new principal",
    ),
    "a new role": (
        add_role,
        "role `poolside-dev-eks-copy-role`: customer-managed `poolside-dev-pod-s3-access`: "
        f"`s3:GetObject`, `s3:PutObject` on `{DATA_BUCKET}/*`: a new action",
    ),
    "a removed Deny": (
        remove_deny,
        f"role `{BASTION_ROLE}`: customer-managed `poolside-dev-bastion-default`: may not "
        f"`kms:DisableKey`, `kms:ScheduleKeyDeletion` on `{KEY_ARN}`: no longer denied",
    ),
    "a narrowed Deny": (
        narrow_deny,
        f"role `{BASTION_ROLE}`: customer-managed `poolside-dev-bastion-default`: may not "
        f"`kms:DisableKey`, `kms:ScheduleKeyDeletion` on `{KEY_ARN}`: denied in fewer cases",
    ),
    "a new managed policy": (
        attach_aws_managed_policy,
        f"role `{POD_ROLE}`: AWS-managed `arn:aws:iam::aws:policy/AdministratorAccess` attached",
    ),
    "a new principal in a key policy": (
        open_key_policy,
        "KMS key `kms-key`: key policy: `AWS arn:aws:iam::999999999999:root` may `kms:*` on "
        "`*`: a new principal",
    ),
    "a removed bucket policy": (
        remove_bucket_policy,
        "S3 bucket `poolside-dev-123456789012`: bucket policy: `*` may not `s3:*` on "
        f"`{DATA_BUCKET}`: no longer denied (when `Bool aws:SecureTransport false`)",
    ),
}


@pytest.mark.parametrize("kind", sorted(WIDENINGS))
def test_each_widening_fails_naming_role_and_action(
    tmp_path: Path, dev_plan: Plan, kind: str
) -> None:
    edit, finding = WIDENINGS[kind]
    result = diff(tmp_path, dev_plan, changed(dev_plan, edit), "--fail-on-widening")
    assert result.exit_code == 1, result.stdout
    assert f"widening: {finding}" in result.stderr.splitlines()
    title, _, line = finding.partition(": ")
    section = result.stdout.split(f"### {title}\n", 1)[1].split("\n### ", 1)[0]
    assert section.startswith("\nWidening:\n\n")
    assert f"- {line}" in section.splitlines()
    # Without the flag the same report, and exit 0: the flag only decides the exit.
    listed = diff(tmp_path, dev_plan, changed(dev_plan, edit))
    assert (listed.exit_code, listed.stdout, listed.stderr) == (0, result.stdout, "")


def test_a_new_role_is_widening_of_its_own(tmp_path: Path, dev_plan: Plan) -> None:
    result = diff(tmp_path, dev_plan, changed(dev_plan, add_role), "--fail-on-widening")
    section = result.stdout.split("### role `poolside-dev-eks-copy-role`\n", 1)[1]
    assert section.startswith("\nWidening:\n\n- a new role\n- trust policy: `Federated ")
    assert "widening: role `poolside-dev-eks-copy-role`: a new role" in result.stderr


def test_a_removed_permissions_boundary_is_widening(tmp_path: Path, dev_plan: Plan) -> None:
    boundary = "arn:aws:iam::aws:policy/PowerUserAccess"
    base = changed(
        dev_plan, lambda p: inputs(p, ROLE, POD_ROLE).update(permissionsBoundary=boundary)
    )
    result = diff(tmp_path, base, dev_plan, "--fail-on-widening")
    assert result.exit_code == 1
    assert result.stderr == (
        f"widening: role `{POD_ROLE}`: permissions boundary AWS-managed `{boundary}` removed\n"
    )
    # and setting one is narrowing
    back = diff(tmp_path, dev_plan, base, "--fail-on-widening")
    assert back.exit_code == 0
    assert f"- permissions boundary AWS-managed `{boundary}` set" in back.stdout.splitlines()


def test_a_boundary_of_the_plan_is_judged_by_its_statements(tmp_path: Path, dev_plan: Plan) -> None:
    """A customer-managed boundary that comes to allow a new action is widening; one that stops
    allowing an action is narrowing."""
    boundary = "arn:aws:iam::123456789012:policy/poolside-dev-pod-kms-access"
    base = changed(
        dev_plan, lambda p: inputs(p, ROLE, POD_ROLE).update(permissionsBoundary=boundary)
    )

    def add_encrypt(statements: list[dict[str, Any]]) -> None:
        by_sid(statements, "UseDeploymentKey")["Action"].append("kms:Encrypt")

    result = diff(
        tmp_path,
        base,
        changed(base, lambda p: edit_policy(p, "poolside-dev-pod-kms-access", add_encrypt)),
        "--fail-on-widening",
    )
    assert result.exit_code == 1
    assert (
        f"widening: role `{POD_ROLE}`: customer-managed `poolside-dev-pod-kms-access`: "
        f"`kms:Encrypt` on `{KEY_ARN}`: a new action"
    ) in result.stderr.splitlines()
    assert (
        "- policies changed: customer-managed `poolside-dev-pod-kms-access`, permissions boundary "
        "customer-managed `poolside-dev-pod-kms-access`"
    ) in result.stdout.splitlines()


def add_step(plan: Plan, type_: str, logical_name: str, **inputs: Any) -> None:
    """A resource added to the plan, as the program would record it."""
    urn = f"urn:pulumi:dev::poolside::{type_}::{logical_name}"
    state = {"type": type_, "urn": urn, "custom": True, "parent": "", "inputs": inputs}
    plan["steps"].append({"op": "create", "urn": urn, "newState": state})


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


DELETE_OBJECTS = {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": f"{DATA_BUCKET}/*"}


ATTACHMENTS: dict[str, tuple[Callable[[Plan], None], str]] = {
    "an inline policy resource": (
        lambda p: add_step(
            p,
            "aws:iam/rolePolicy:RolePolicy",
            "cleanup",
            role=POD_ROLE,
            name="cleanup",
            policy=document(DELETE_OBJECTS),
        ),
        "inline `cleanup`: `s3:DeleteObject`",
    ),
    "the role's inlinePolicies": (
        lambda p: inputs(p, ROLE, POD_ROLE).update(
            inlinePolicies=[{"name": "cleanup", "policy": document(DELETE_OBJECTS)}]
        ),
        "inline `cleanup`: `s3:DeleteObject`",
    ),
    "the role's managedPolicyArns": (
        lambda p: inputs(p, ROLE, POD_ROLE).update(
            managedPolicyArns=["arn:aws:iam::aws:policy/AmazonS3FullAccess"]
        ),
        "AWS-managed `arn:aws:iam::aws:policy/AmazonS3FullAccess` attached",
    ),
    "a policy attachment naming roles": (
        lambda p: add_step(
            p,
            "aws:iam/policyAttachment:PolicyAttachment",
            "bastion-to-pod",
            roles=[POD_ROLE],
            policyArn="arn:aws:iam::123456789012:policy/poolside-dev-bastion-terraform-state",
        ),
        "customer-managed `poolside-dev-bastion-terraform-state`: `dynamodb:DeleteItem`, "
        "`dynamodb:GetItem`, `dynamodb:PutItem` on `arn:aws:dynamodb:us-east-1:123456789012:"
        "table/poolside-dev-terraform-locks`: a new action",
    ),
}


@pytest.mark.parametrize("kind", sorted(ATTACHMENTS))
def test_every_way_a_role_gets_a_policy_is_read(tmp_path: Path, dev_plan: Plan, kind: str) -> None:
    edit, finding = ATTACHMENTS[kind]
    result = diff(tmp_path, dev_plan, changed(dev_plan, edit), "--fail-on-widening")
    assert result.exit_code == 1, kind
    [line] = result.stderr.splitlines()
    assert line.startswith(f"widening: role `{POD_ROLE}`: {finding}")


def test_a_statement_moved_to_another_policy_of_the_role_is_not_widening(
    tmp_path: Path, dev_plan: Plan
) -> None:
    def move(plan: Plan) -> None:
        listing: list[dict[str, Any]] = []
        edit_policy(
            plan,
            "poolside-dev-pod-s3-access",
            lambda s: listing.append(s.pop(s.index(by_sid(s, "PoolsideBucketList")))),
        )
        add_step(
            plan,
            "aws:iam/rolePolicy:RolePolicy",
            "listing",
            role=POD_ROLE,
            name="listing",
            policy=document(*listing),
        )

    result = diff(tmp_path, dev_plan, changed(dev_plan, move), "--fail-on-widening")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.endswith(
        f"### role `{POD_ROLE}`\n"
        "\n"
        "Changes:\n"
        "\n"
        "- policies added: inline `listing`\n"
        "- policies changed: customer-managed `poolside-dev-pod-s3-access`\n"
    )


NARROWINGS: dict[str, tuple[Callable[[Plan], None], str]] = {
    "a removed statement": (
        lambda p: edit_policy(
            p,
            "poolside-dev-pod-s3-access",
            lambda s: s.remove(by_sid(s, "PoolsideBucketList")),
        ),
        f"role `{POD_ROLE}`: customer-managed `poolside-dev-pod-s3-access`: `s3:ListBucket` on "
        f"`{DATA_BUCKET}`: an action removed",
    ),
    "a narrower resource": (
        lambda p: edit_policy(
            p,
            "poolside-dev-pod-s3-access",
            lambda s: by_sid(s, "PoolsideBucketReadWriteObjects").update(
                Resource=[f"{DATA_BUCKET}/models/*"]
            ),
        ),
        f"role `{POD_ROLE}`: customer-managed `poolside-dev-pod-s3-access`: `s3:GetObject`, "
        f"`s3:PutObject` on `{DATA_BUCKET}/*`: a narrower resource",
    ),
    "a tighter condition": (
        lambda p: edit_policy(
            p,
            "poolside-dev-pod-kms-access",
            lambda s: by_sid(s, "UseDeploymentKey").update(
                Condition={"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}
            ),
        ),
        f"role `{POD_ROLE}`: customer-managed `poolside-dev-pod-kms-access`: `kms:Decrypt`, "
        f"`kms:GenerateDataKey`, `kms:GenerateDataKeyWithoutPlaintext` on `{KEY_ARN}`: a tighter "
        "condition: `StringEquals kms:ViaService s3.us-east-1.amazonaws.com` added",
    ),
    "a removed role": (
        lambda p: p.update(
            steps=[
                s
                for s in p["steps"]
                if "::cluster-node-role" not in s["urn"]
                and s["newState"]["inputs"].get("role") != "poolside-dev-eks-node-role"
            ]
        ),
        "role `poolside-dev-eks-node-role`: the role is removed",
    ),
}


@pytest.mark.parametrize("kind", sorted(NARROWINGS))
def test_narrowing_is_listed_and_exits_0(tmp_path: Path, dev_plan: Plan, kind: str) -> None:
    edit, finding = NARROWINGS[kind]
    result = diff(tmp_path, dev_plan, changed(dev_plan, edit), "--fail-on-widening")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.startswith(
        "## IAM changes\n\nNo widening: HEAD allows no request BASE did not. Narrowing: "
    )
    title, _, line = finding.partition(": ")
    section = result.stdout.split(f"### {title}\n", 1)[1].split("\n### ", 1)[0]
    assert section.startswith(f"\nNarrowing:\n\n- {line}\n")
    # the other way round, the same change widens
    back = diff(tmp_path, changed(dev_plan, edit), dev_plan, "--fail-on-widening")
    assert back.exit_code == 1


def test_narrowing_lists_what_was_removed(tmp_path: Path, dev_plan: Plan) -> None:
    edit, _ = NARROWINGS["a removed statement"]
    result = diff(tmp_path, dev_plan, changed(dev_plan, edit))
    assert result.stdout.endswith(
        "Changes:\n"
        "\n"
        "- policies changed: customer-managed `poolside-dev-pod-s3-access`\n"
        "- actions removed: `s3:ListBucket`\n"
        f"- resources removed: `{DATA_BUCKET}`\n"
    )


def test_widening_beside_narrowing_still_fails(tmp_path: Path, dev_plan: Plan) -> None:
    edit, _ = NARROWINGS["a narrower resource"]
    result = diff(tmp_path, dev_plan, changed(dev_plan, edit, add_role), "--fail-on-widening")
    assert result.exit_code == 1
    assert result.stdout.startswith("## IAM changes\n\n**Widening: ")


# A request each widening lets through that BASE did not, judged by the tests' own evaluator
# (tests/support/iam_eval.py) from the role's attached policies: the report names a real request.
REQUESTS = {
    "a new action": (POD_ROLE, Request("s3:DeleteObject", f"{DATA_BUCKET}/x")),
    "a wider resource": (
        "poolside-dev-eks-inference-role",
        Request("s3:GetObject", "arn:aws:s3:::someone-elses-bucket/x"),
    ),
    "a removed condition": (
        POD_ROLE,
        Request(
            "iam:PassRole",
            f"arn:aws:iam::123456789012:role/{CUSTOMIZATION_ROLE}",
            {"iam:PassedToService": "ec2.amazonaws.com"},
        ),
    ),
}
# A removed Deny is widening by rule even where no Allow of the role reaches what it denied (the
# bastion's key Deny guards against a later Allow), so it has no such request.


def identity_policies(plan: Plan, role: str) -> list[dict[str, Any]]:
    arns = [
        s["newState"]["inputs"]["policyArn"]
        for s in plan["steps"]
        if s["newState"]["type"] == ATTACHMENT and s["newState"]["inputs"]["role"] == role
    ]
    names = {arn.rsplit("/", 1)[1] for arn in arns}
    return [
        json.loads(s["newState"]["inputs"]["policy"])
        for s in plan["steps"]
        if s["newState"]["type"] == POLICY and s["newState"]["inputs"]["name"] in names
    ]


@pytest.mark.parametrize("kind", sorted(REQUESTS))
def test_a_reported_widening_is_a_request_head_allows_and_base_did_not(
    dev_plan: Plan, kind: str
) -> None:
    role, request = REQUESTS[kind]
    head = changed(dev_plan, WIDENINGS[kind][0])
    assert not allowed(request, identity_policies(dev_plan, role))
    assert allowed(request, identity_policies(head, role))


def test_rewritten_policies_decide_every_request_alike(dev_plan: Plan) -> None:
    """What the diff calls no widening and no narrowing (split, merged, reordered statements)
    decides every request the pod role's policies name the same way before and after."""
    head = changed(dev_plan, split_and_merge, reorder_everything)
    before, after = identity_policies(dev_plan, POD_ROLE), identity_policies(head, POD_ROLE)

    def listed(value: str | list[str]) -> list[str]:
        return [value] if isinstance(value, str) else value

    def context(statement: dict[str, Any]) -> dict[str, Any]:
        """A request context its (positive) conditions hold in."""
        conditions = statement.get("Condition", {}).items()
        return {
            k: listed(v)[0].replace("*", "x") for _, keys in conditions for k, v in keys.items()
        }

    requests = [
        Request(action, resource.replace("*", "x"), context(statement))
        for document in before
        for statement in document["Statement"]
        for action in statement["Action"]
        for resource in listed(statement["Resource"])
    ]
    assert len(requests) == 27
    for request in requests:
        assert allowed(request, before) == allowed(request, after) is True, request


def test_output_is_byte_identical_across_runs_and_step_orders(
    tmp_path: Path, dev_plan: Plan
) -> None:
    head = changed(dev_plan, add_action, remove_deny, split_and_merge, add_role)
    first = diff(tmp_path, dev_plan, head)
    shuffled = copy.deepcopy(head)
    random.Random(3).shuffle(shuffled["steps"])
    second = diff(tmp_path, dev_plan, shuffled)
    assert first.exit_code == second.exit_code == 0
    assert first.stdout == second.stdout
    assert first.stdout == diff(tmp_path, dev_plan, head).stdout


def test_dev_against_govcloud_compares_without_normalising_partitions(
    tmp_path: Path, dev_plan: Plan, govcloud_plan: Plan
) -> None:
    """Two stacks' plans: no ARN is rewritten, so every dev role is removed and every govcloud
    role is new (a widening), and the key policy's principal changes partition."""
    result = diff(tmp_path, dev_plan, govcloud_plan, "--fail-on-widening")
    assert result.exit_code == 1
    roles = [
        s["newState"]["inputs"]["name"]
        for plan in (dev_plan, govcloud_plan)
        for s in plan["steps"]
        if s["newState"]["type"] == ROLE
    ]
    assert len(roles) == 18
    for role in roles:
        section = result.stdout.split(f"### role `{role}`\n", 1)[1]
        if role.startswith("poolside-dev-"):
            assert section.startswith("\nNarrowing:\n\n- the role is removed\n")
        else:
            assert section.startswith("\nWidening:\n\n- a new role\n")
    assert (
        "widening: KMS key `kms-key`: key policy: `AWS arn:aws-us-gov:iam::123456789012:root` "
        "may `kms:*` on `*`: a new principal"
    ) in result.stderr.splitlines()
    assert len(result.stdout) < 65_536  # GitHub's limit on a comment's body


def test_a_file_that_is_not_a_plan_exits_2_with_one_line(tmp_path: Path, dev_plan: Plan) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(dev_plan))
    for content, message in (
        ("{not json", "not JSON"),
        ('{"resources": []}', "not a plan (`--format json`): no list of steps"),
    ):
        bad = tmp_path / "bad.json"
        bad.write_text(content)
        result = run_preview("diff", str(plan), str(bad))
        assert (result.exit_code, result.stdout) == (2, "")
        assert len(result.lines) == 1 and result.lines[0].startswith(f"{bad}: ")
        assert message in result.lines[0]
    missing = run_preview("diff", str(tmp_path / "missing.json"), str(plan))
    assert missing.exit_code == 2
    assert missing.lines == [f"{tmp_path / 'missing.json'}: cannot read: No such file or directory"]


def test_a_broken_policy_is_named_by_its_urn(tmp_path: Path, dev_plan: Plan) -> None:
    head = changed(
        dev_plan, lambda p: inputs(p, POLICY, "poolside-dev-pod-s3-access").update(policy="{")
    )
    result = diff(tmp_path, dev_plan, head)
    assert result.exit_code == 2
    [line] = result.lines
    assert line.startswith(f"{tmp_path / 'head.json'}: urn:pulumi:dev::poolside::")
    assert line.endswith(
        "::pod-pod-s3-access: customer-managed `poolside-dev-pod-s3-access`: "
        "not a JSON document (Expecting property name enclosed in double quotes)"
    )


def test_the_subcommand_runs_as_users_start_it(tmp_path: Path, dev_plan: Plan) -> None:
    """`python -m offline_preview diff ...` in a process of its own prints what main prints; the
    plan flags (`--stack`) are untouched by the subcommand."""
    head = changed(dev_plan, add_action)
    in_process = diff(tmp_path, dev_plan, head, "--fail-on-widening")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "offline_preview",
            "diff",
            "--fail-on-widening",
            str(tmp_path / "base.json"),
            str(tmp_path / "head.json"),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        in_process.stdout,
        in_process.stderr,
    )
