"""What an existing key's policy must allow: read from the plan (each role's IAM statements on
the key, the services of the resources encrypted with it), built beside the created key's own
statement, and printed by the offline preview's text plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components.kms_key import SERVICE_KEY_ACTIONS, account_statement, key_policy
from offline_preview.engine import RecordedResource, Recording
from offline_preview.render import existing_key_policy
from tests.support.harness import ACCOUNT_ID, PROJECT_ROOT, REGIONS, environment, record_stack
from tests.support.policies import policy
from tests.support.preview import run_preview

KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-4333-8444-555555555555"
ROOT = {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}
ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/poolside-acme-"
ENCRYPT_DECRYPT = ["kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"]
# Everything that uses the key on: the bastion, Bedrock, the models bucket, the EBS CSI driver,
# a repository (the default stack's), and the customer's bucket encrypted with the key.
EXISTING = {
    "kms": {"existingKeyArn": KEY},
    "bucket": {"existingBucketName": "acme-data"},
    "ecr": {"repositories": ["api"]},
}


@pytest.fixture(scope="module")
def statements() -> dict[str, dict[str, Any]]:
    recording = record_stack(EXISTING).recording
    found = existing_key_policy(recording, environment("aws"), KEY)
    by_sid = {s["Sid"]: s for s in found}
    assert len(by_sid) == len(found)  # Sids are unique in a key policy
    return by_sid


def role_statement(role: str, actions: list[str], **condition: Any) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": ROOT,
        "Action": actions,
        "Resource": "*",
        "Condition": {**condition, "ArnEquals": {"aws:PrincipalArn": ROLE + role}},
    }


def test_each_roles_grant_is_admitted_for_that_role_only(
    statements: dict[str, dict[str, Any]],
) -> None:
    roles = {sid: s for sid, s in statements.items() if "aws:PrincipalArn" in json.dumps(s)}
    assert {sid: {k: v for k, v in s.items() if k != "Sid"} for sid, s in roles.items()} == {
        "PodRoleUseDeploymentKey": role_statement("eks-pod-role", ENCRYPT_DECRYPT),
        "BastionIamRoleReadDeploymentKey": role_statement(
            "bastion-role", ["kms:DescribeKey", "kms:GetKeyRotationStatus", "kms:ListResourceTags"]
        ),
        "BastionIamRoleUseDeploymentKey": role_statement("bastion-role", ENCRYPT_DECRYPT),
        "BedrockCustomizationRoleCustomizationDataKey": role_statement(
            "bedrock-customization-role", ENCRYPT_DECRYPT
        ),
        "EbsCsiRoleGrantsForEncryptedVolumes": role_statement(
            "eks-ebs-csi-role",
            ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
            Bool={"kms:GrantIsForAWSResource": "true"},
        ),
        "EbsCsiRoleDataKeysOfEncryptedVolumes": role_statement(
            "eks-ebs-csi-role",
            [
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:DescribeKey",
            ],
        ),
        "InferenceRoleDecryptWithDeploymentKey": role_statement(
            "eks-inference-role", ["kms:Decrypt"]
        ),
    }


def test_the_bastions_deny_is_not_repeated(statements: dict[str, dict[str, Any]]) -> None:
    """An IAM Deny holds whatever a key policy allows; the key policy only admits."""
    assert all(s["Effect"] == "Allow" for s in statements.values())
    assert "kms:ScheduleKeyDeletion" not in json.dumps(statements)


def test_the_services_that_encrypt_the_deployments_resources_are_admitted(
    statements: dict[str, dict[str, Any]],
) -> None:
    assert statements["CreateEncryptedResourcesThroughServices"] == {
        "Sid": "CreateEncryptedResourcesThroughServices",
        "Effect": "Allow",
        "Principal": ROOT,
        "Action": list(SERVICE_KEY_ACTIONS),
        "Resource": "*",
        "Condition": {
            "StringEquals": {
                "kms:ViaService": [
                    "dynamodb.us-east-1.amazonaws.com",  # the bastion's lock table
                    "ec2.us-east-1.amazonaws.com",  # the bastion's root volume
                    "ecr.us-east-1.amazonaws.com",  # the repository
                    "eks.us-east-1.amazonaws.com",  # the cluster's secrets
                ]
            }
        },
    }


def test_every_iam_statement_on_the_key_has_its_key_statement() -> None:
    """Read from the plan: whatever names the key in a role's policy is admitted, with the same
    actions and conditions, for that role."""
    recording = record_stack(EXISTING).recording
    admitted = {
        (s["Condition"]["ArnEquals"]["aws:PrincipalArn"], json.dumps(s["Action"]))
        for s in existing_key_policy(recording, environment("aws"), KEY)
        if "ArnEquals" in s["Condition"]
    }
    roles = {r.outputs["name"]: r.outputs["arn"] for r in recording.by_type("aws:iam/role:Role")}
    policies = {p.outputs["arn"]: p for p in recording.by_type("aws:iam/policy:Policy")}
    naming = set()
    for attachment in recording.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        if attachment.inputs["policyArn"] not in policies:
            continue
        for stmt in policy(policies[attachment.inputs["policyArn"]])["Statement"]:
            if KEY in json.dumps(stmt.get("Resource")) and stmt["Effect"] == "Allow":
                naming.add((roles[attachment.inputs["role"]], json.dumps(stmt["Action"])))
    assert naming == admitted
    assert len(naming) == 7


def test_a_created_keys_policy_is_the_account_statement_alone() -> None:
    env = environment("aws")
    assert json.loads(key_policy(env)) == {
        "Version": "2012-10-17",
        "Statement": [account_statement(env)],
    }
    assert account_statement(env)["Principal"] == ROOT


def test_china_names_its_services_by_its_own_suffix() -> None:
    cn_key = f"arn:aws-cn:kms:{REGIONS['aws-cn']}:{ACCOUNT_ID}:key/" + KEY[-36:]
    recording = record_stack({"kms": {"existingKeyArn": cn_key}}, partition="aws-cn").recording
    [services] = [
        s
        for s in existing_key_policy(recording, environment("aws-cn"), cn_key)
        if s["Sid"] == "CreateEncryptedResourcesThroughServices"
    ]
    assert services["Principal"] == {"AWS": f"arn:aws-cn:iam::{ACCOUNT_ID}:root"}
    assert services["Condition"]["StringEquals"]["kms:ViaService"] == [
        f"{service}.cn-north-1.amazonaws.com.cn" for service in ("dynamodb", "ec2", "eks")
    ]


def test_a_resource_that_uses_the_key_unaccounted_for_is_refused() -> None:
    """A new resource encrypted with the key must say what its service does with it."""
    queue = RecordedResource(
        type="aws:sqs/queue:Queue",
        name="jobs",
        urn="urn:pulumi:test::poolside::aws:sqs/queue:Queue::jobs",
        custom=True,
        parent="",
        inputs={"kmsMasterKeyId": KEY},
        outputs={},
        dependencies=[],
        property_dependencies={},
        protect=False,
        retain_on_delete=False,
        provider="",
    )
    with pytest.raises(ValueError, match=r"aws:sqs/queue:Queue jobs uses the key"):
        existing_key_policy(Recording("test", [queue]), environment("aws"), KEY)


def test_the_text_plan_prints_them_for_each_existing_key(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.customer.yaml"
    stack.write_text(
        "config:\n"
        "  aws:region: us-east-1\n"
        "  poolside:deploymentName: acme\n"
        "  poolside:kms:\n"
        f"    existingKeyArn: {KEY}\n"
        "  poolside:cluster:\n"
        "    vpcId: vpc-0123456789abcdef0\n"
        "    privateSubnetIds: [subnet-0000000000000000a, subnet-0000000000000000b]\n"
        "    nodeGroups: [{name: system}]\n"
    )
    result = run_preview("--config-file", str(stack))
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    heading = "Key policy statements your existing key needs"
    assert text.count(heading) == 1
    section = text[text.index(heading) :].split("\n\nOutputs:")[0].splitlines()
    assert section[1] == f"  poolside:kms.existingKeyArn {KEY}:"
    printed = json.loads("\n".join(section[2:]))
    recording = record_stack(
        {
            "kms": {"existingKeyArn": KEY},
            "cluster": {
                "vpcId": "vpc-0123456789abcdef0",
                "privateSubnetIds": ["subnet-0000000000000000a", "subnet-0000000000000000b"],
                "nodeGroups": [{"name": "system"}],
            },
        }
    ).recording
    assert printed == existing_key_policy(recording, environment("aws"), KEY)
    # the created key's plan has no such section
    assert heading not in run_preview("--stack", "dev").stdout


def test_the_documented_example_is_what_the_preview_computes(
    statements: dict[str, dict[str, Any]],
) -> None:
    text = (PROJECT_ROOT / "docs" / "existing-resources.md").read_text()
    start, end = "<!-- existing-key-example:start -->", "<!-- existing-key-example:end -->"
    block = text.split(start)[1].split(end)[0].strip()
    assert block.startswith("```json\n") and block.endswith("\n```")
    documented = json.loads(block.removeprefix("```json\n").removesuffix("\n```"))
    assert documented == list(statements.values())
