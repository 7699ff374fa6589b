"""`offline_preview/iam_plan.py` reads a recording (the text plan, the review document) and a JSON
plan (`diff`) by one reading: the same roles hold the same policies in both, and the JSON plan the
preview prints reads back as the recording it was printed from."""

from __future__ import annotations

import json
from typing import Any

import pytest

from offline_preview.engine import RecordedResource, Recording
from offline_preview.iam_entries import TRUST, read_plan_iam
from offline_preview.iam_rules import parse_document
from offline_preview.planned_roles import PlannedRole, planned_roles, unattached_policies
from offline_preview.render import to_preview_json
from tests.support.examples import EXAMPLE_STACKS, example_recording
from tests.support.harness import run_stack

CUSTOMER = {
    "kms": {
        "existingKeyArn": "arn:aws:kms:us-east-1:123456789012:key/"
        "11111111-2222-4333-8444-555555555555"
    },
    "bucket": {"existingBucketName": "acme-data"},
}


def _expected_documents(role: PlannedRole) -> dict[str, object]:
    documents: dict[str, object] = {TRUST: parse_document(role.trust_text, TRUST, principals=True)}
    for policy in role.policies:
        label = f"{'inline' if policy.inline else 'customer-managed'} `{policy.name}`"
        documents[label] = parse_document(policy.text, label, principals=False)
    return documents


@pytest.mark.parametrize("stack", [*EXAMPLE_STACKS, "customer"])
def test_both_forms_of_a_plan_give_each_role_the_same_policies(stack: str) -> None:
    recording = example_recording(stack) if stack in EXAMPLE_STACKS else run_stack(CUSTOMER)
    roles = planned_roles(recording)
    assert roles  # every stack creates roles
    # the JSON plan as `--format json` prints it, read back as `diff` reads a file
    printed = json.loads(json.dumps(to_preview_json(recording), sort_keys=True))
    iam = read_plan_iam(printed, stack)
    read_roles = {name for kind, name in iam.entries if kind == "role"}
    assert read_roles == {role.name for role in roles}
    for role in roles:
        entry = iam.entries[("role", role.name)]
        assert entry.created
        assert entry.documents == _expected_documents(role), role.name
        assert entry.opaque == {f"AWS-managed `{arn}`" for arn in role.managed_policy_arns}
        assert entry.boundary is None


def _resource(type_: str, name: str, inputs: dict[str, Any], **outputs: str) -> RecordedResource:
    return RecordedResource(
        type=type_,
        name=name,
        urn=f"urn:pulumi:test::poolside::{type_}::{name}",
        custom=True,
        parent="",
        inputs=inputs,
        outputs={**inputs, **outputs},
        dependencies=[],
        property_dependencies={},
        protect=False,
        retain_on_delete=False,
        provider="",
    )


def _policy(name: str) -> RecordedResource:
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    arn = f"arn:aws:iam::123456789012:policy/{name}"
    return _resource(
        "aws:iam/policy:Policy", name, {"name": name, "policy": json.dumps(document)}, arn=arn
    )


def test_a_policy_no_role_holds_is_no_roles_in_either_form() -> None:
    """A role holds the policy attached to it (by the role's name, or by its URN as a JSON plan
    refers to a resource); the other one is attached to no role, in both readings (and the JSON
    reading keeps its statements as an entry of their own, for `diff`)."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = _resource(
        "aws:iam/role:Role",
        "app-role",
        {"name": "app", "assumeRolePolicy": json.dumps(trust)},
        arn="arn:aws:iam::123456789012:role/app",
    )
    held, spare, by_urn = _policy("held"), _policy("spare"), _policy("by-urn")
    attachments = [
        _resource(
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            f"app-{policy.name}",
            {"role": reference, "policyArn": policy.outputs["arn"]},
        )
        for policy, reference in ((held, "app"), (by_urn, f"<resource {role.urn}>"))
    ]
    recording = Recording("test", [role, held, spare, by_urn, *attachments])
    [planned] = planned_roles(recording)
    assert [p.name for p in planned.policies] == ["by-urn", "held"]
    assert [p.name for p in unattached_policies(recording)] == ["spare"]
    iam = read_plan_iam(to_preview_json(recording), "test")
    # the spare policy is an entry of its own: it may be attached where the plan cannot tell
    assert set(iam.entries) == {("role", "app"), ("unattached policy", "spare")}
    assert sorted(iam.entries[("role", "app")].documents) == [
        "customer-managed `by-urn`",
        "customer-managed `held`",
        TRUST,
    ]
