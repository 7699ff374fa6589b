"""Request-level least privilege against the customer's key and bucket: the pod and bastion roles
may use exactly the existing key, the bucket's own key and the existing bucket, nothing beside.

Judged by `tests.support.iam_eval` against the roles' actual documents from a whole-program run
with `kms.existingKeyArn`, `bucket.existingBucketName` and `bucket.existingBucketKmsKeyArn`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from offline_preview.engine import Recording
from tests.support.harness import ACCOUNT_ID, record_stack
from tests.support.iam_eval import Decision, Request, evaluate

KEY = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/11111111-2222-4333-8444-555555555555"
BUCKET_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/22222222-2222-4333-8444-555555555555"
OTHER_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/99999999-2222-4333-8444-555555555555"
BUCKET = "arn:aws:s3:::customer-data"


@pytest.fixture(scope="module")
def recording() -> Recording:
    return record_stack(
        {
            "kms": {"existingKeyArn": KEY},
            "bucket": {
                "existingBucketName": "customer-data",
                "existingBucketKmsKeyArn": BUCKET_KEY,
            },
        }
    ).recording


def policies_of(recording: Recording, role_name: str) -> list[dict[str, Any]]:
    """The documents of the customer-managed policies attached to `role_name`."""
    policies = {p.outputs["arn"]: p for p in recording.by_type("aws:iam/policy:Policy")}
    return [
        json.loads(policies[a.inputs["policyArn"]].inputs["policy"])
        for a in recording.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == role_name and a.inputs["policyArn"] in policies
    ]


CASES: list[tuple[str, str, str, Decision]] = [
    # the pod role: the spec's S3 and KMS Access Policies, on the customer's resources
    ("pod", "s3:GetObject", f"{BUCKET}/x", "allow"),
    ("pod", "s3:PutObject", f"{BUCKET}/x", "allow"),
    ("pod", "s3:ListBucket", BUCKET, "allow"),
    ("pod", "s3:DeleteObject", f"{BUCKET}/x", "implicit-deny"),
    ("pod", "s3:GetObject", f"{BUCKET}-x/x", "implicit-deny"),
    ("pod", "kms:Decrypt", KEY, "allow"),
    ("pod", "kms:GenerateDataKey", KEY, "allow"),
    ("pod", "kms:Decrypt", BUCKET_KEY, "allow"),  # the bucket's own key, for its objects
    ("pod", "kms:GenerateDataKey", BUCKET_KEY, "allow"),
    ("pod", "kms:Decrypt", OTHER_KEY, "implicit-deny"),
    ("pod", "kms:ScheduleKeyDeletion", KEY, "implicit-deny"),
    ("pod", "kms:PutKeyPolicy", KEY, "implicit-deny"),
    # the bastion: reads and uses them, may never destroy the deployment's key
    ("bastion", "s3:PutObject", f"{BUCKET}/state", "allow"),
    ("bastion", "kms:Decrypt", BUCKET_KEY, "allow"),
    ("bastion", "kms:GenerateDataKey", KEY, "allow"),
    ("bastion", "kms:DescribeKey", KEY, "allow"),
    ("bastion", "kms:ScheduleKeyDeletion", KEY, "explicit-deny"),
    ("bastion", "kms:DisableKey", KEY, "explicit-deny"),
    ("bastion", "kms:Decrypt", OTHER_KEY, "implicit-deny"),
]
ROLES = {"pod": "poolside-acme-eks-pod-role", "bastion": "poolside-acme-bastion-role"}


@pytest.mark.parametrize(
    ("role", "action", "resource", "decision"),
    CASES,
    ids=[f"{r}-{a}-{res.rsplit(':', 1)[-1]}" for r, a, res, _ in CASES],
)
def test_request(
    recording: Recording, role: str, action: str, resource: str, decision: Decision
) -> None:
    assert evaluate(Request(action, resource), policies_of(recording, ROLES[role])) == decision
