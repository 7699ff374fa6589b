"""The EBS CSI driver's KMS policy on its own, in every partition: exactly its two statements,
clean under the IAM lint, and judged request by request (grants only for AWS resources, and
nothing on another key)."""

from __future__ import annotations

from typing import Any

import pytest

from aws_environment import AwsEnvironment
from policies.ebs_csi_driver import ebs_csi_kms_policy
from tests.support.harness import ACCOUNT_ID, PARTITIONS, REGIONS, environment
from tests.support.iam_allowlist import STAR_ALLOWLIST
from tests.support.iam_eval import Decision, Request, evaluate
from tests.support.iam_lint import lint_policy

KEY_ID = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
OTHER_KEY_ID = "11111111-2222-3333-4444-555555555555"


def key_arn(env: AwsEnvironment, key_id: str = KEY_ID) -> str:
    return env.regional_arn("kms", f"key/{key_id}")


def document(partition: str) -> dict[str, Any]:
    return ebs_csi_kms_policy(key_arn(environment(partition)))


@pytest.mark.parametrize("partition", PARTITIONS)
def test_two_statements_on_the_deployment_key_only(partition: str) -> None:
    key = key_arn(environment(partition))
    assert key.startswith(f"arn:{partition}:kms:{REGIONS[partition]}:{ACCOUNT_ID}:key/")
    assert document(partition) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GrantsForEncryptedVolumes",
                "Effect": "Allow",
                "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                "Resource": [key],
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
            {
                "Sid": "DataKeysOfEncryptedVolumes",
                "Effect": "Allow",
                "Action": [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:DescribeKey",
                ],
                "Resource": [key],
            },
        ],
    }


@pytest.mark.parametrize("partition", PARTITIONS)
def test_passes_the_iam_lint(partition: str) -> None:
    assert (
        lint_policy(
            document(partition),
            partition=partition,
            region=REGIONS[partition],
            account_id=ACCOUNT_ID,
            star_allowlist=STAR_ALLOWLIST,
        )
        == []
    )


# (request name, action, on the deployment key?, GrantIsForAWSResource or None: absent, decision)
CASES: list[tuple[str, str, bool, bool | None, Decision]] = [
    ("create-grant-for-aws-resource", "kms:CreateGrant", True, True, "allow"),
    ("list-grants-for-aws-resource", "kms:ListGrants", True, True, "allow"),
    ("revoke-grant-for-aws-resource", "kms:RevokeGrant", True, True, "allow"),
    ("create-grant-not-for-aws-resource", "kms:CreateGrant", True, False, "implicit-deny"),
    ("create-grant-without-the-key", "kms:CreateGrant", True, None, "implicit-deny"),
    ("create-grant-on-another-key", "kms:CreateGrant", False, True, "implicit-deny"),
    ("encrypt", "kms:Encrypt", True, None, "allow"),
    ("decrypt", "kms:Decrypt", True, None, "allow"),
    ("re-encrypt-from", "kms:ReEncryptFrom", True, None, "allow"),
    ("re-encrypt-to", "kms:ReEncryptTo", True, None, "allow"),
    ("generate-data-key", "kms:GenerateDataKey", True, None, "allow"),
    (
        "generate-data-key-without-plaintext",
        "kms:GenerateDataKeyWithoutPlaintext",
        True,
        None,
        "allow",
    ),
    ("describe-key", "kms:DescribeKey", True, None, "allow"),
    ("decrypt-another-key", "kms:Decrypt", False, None, "implicit-deny"),
    ("schedule-key-deletion", "kms:ScheduleKeyDeletion", True, None, "implicit-deny"),
    ("put-key-policy", "kms:PutKeyPolicy", True, None, "implicit-deny"),
    ("retire-grant", "kms:RetireGrant", True, True, "implicit-deny"),
]


@pytest.mark.parametrize("partition", PARTITIONS)
@pytest.mark.parametrize(
    ("action", "on_key", "for_aws_resource", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_request(
    partition: str, action: str, on_key: bool, for_aws_resource: bool | None, expected: Decision
) -> None:
    env = environment(partition)
    resource = key_arn(env) if on_key else key_arn(env, OTHER_KEY_ID)
    context: dict[str, Any] = {"aws:RequestedRegion": env.region}
    if for_aws_resource is not None:
        context["kms:GrantIsForAWSResource"] = for_aws_resource
    decision = evaluate(Request(action, resource, context), [document(partition)])
    assert decision == expected


@pytest.mark.parametrize("partition", PARTITIONS)
def test_the_managed_policy_arn_carries_its_service_role_path(partition: str) -> None:
    env = environment(partition)
    assert env.aws_managed_policy_arn("AmazonEBSCSIDriverPolicy", path="/service-role/") == (
        f"arn:{partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
    )
    assert env.aws_managed_policy_arn("AmazonEKS_CNI_Policy") == (
        f"arn:{partition}:iam::aws:policy/AmazonEKS_CNI_Policy"
    )
    with pytest.raises(ValueError, match="an IAM path starts and ends with '/'"):
        env.aws_managed_policy_arn("AmazonEBSCSIDriverPolicy", path="service-role")
