"""The existing key and bucket are looked up before anything is registered: a missing or unusable
one is one config line naming its key, beside the other problems of the environment."""

from __future__ import annotations

from typing import Any

import pytest

from existing_data import failure_reason
from stack_config import StackConfigError
from tests.support.harness import record_stack

KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-4333-8444-555555555555"
BUCKET_KEY = "arn:aws:kms:us-east-1:123456789012:key/22222222-2222-4333-8444-555555555555"
EXISTING: dict[str, Any] = {
    "kms": {"existingKeyArn": KEY},
    "bucket": {"existingBucketName": "acme-data", "existingBucketKmsKeyArn": BUCKET_KEY},
}


def refused(
    poolside: dict[str, Any] = EXISTING,
    *,
    absent: tuple[str, ...] = (),
    lookup_overrides: dict[str, dict[str, Any]] | None = None,
) -> list[str]:
    """The problems of a run whose look-ups report the `absent` ones missing."""
    with pytest.raises(StackConfigError) as caught:
        record_stack(poolside, absent=absent, lookup_overrides=lookup_overrides)
    return caught.value.problems


def test_found_ones_are_looked_up_once_each_before_anything_is_registered() -> None:
    run = record_stack(EXISTING)
    lookups = [
        (t, a) for t, a in run.calls if t in ("aws:kms/getKey:getKey", "aws:s3/getBucket:getBucket")
    ]
    assert lookups == [
        ("aws:kms/getKey:getKey", {"keyId": KEY}),
        ("aws:kms/getKey:getKey", {"keyId": BUCKET_KEY}),
        ("aws:s3/getBucket:getBucket", {"bucket": "acme-data"}),
    ]


def test_no_lookup_without_an_existing_key_or_bucket() -> None:
    run = record_stack({})
    assert not [
        t for t, _ in run.calls if t in ("aws:kms/getKey:getKey", "aws:s3/getBucket:getBucket")
    ]


def test_missing_ones_are_one_line_each_naming_the_key() -> None:
    assert refused(absent=(KEY, "acme-data")) == [
        "poolside:kms.existingKeyArn: not found, or the deployer may not describe it "
        f"(kms:DescribeKey): reading KMS Key ({KEY}): operation error KMS: DescribeKey, https "
        f"response error StatusCode: 400, NotFoundException: Key '{KEY}' does not exist "
        f'(got "{KEY}")',
        "poolside:bucket.existingBucketName: not found, or the deployer may not list it "
        "(s3:ListBucket): reading S3 Bucket (acme-data): couldn't find resource "
        '(got "acme-data")',
    ]
    [missing_bucket_key] = refused(absent=(BUCKET_KEY,))
    assert missing_bucket_key.startswith(
        "poolside:bucket.existingBucketKmsKeyArn: not found, or the deployer may not describe it"
    )


@pytest.mark.parametrize(
    ("facts", "problem"),
    [
        (
            {"keyState": "PendingDeletion"},
            "is PendingDeletion; the deployment needs an enabled key",
        ),
        ({"keyState": "Disabled"}, "is Disabled; the deployment needs an enabled key"),
        (
            {"keySpec": "RSA_2048", "keyUsage": "ENCRYPT_DECRYPT"},
            "has key spec RSA_2048 and usage ENCRYPT_DECRYPT; S3, EBS, ECR, EKS and DynamoDB "
            "encrypt with a symmetric encryption key only (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT)",
        ),
        (
            {"keySpec": "HMAC_256", "keyUsage": "GENERATE_VERIFY_MAC"},
            "has key spec HMAC_256 and usage GENERATE_VERIFY_MAC; S3, EBS, ECR, EKS and DynamoDB "
            "encrypt with a symmetric encryption key only (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT)",
        ),
        (
            {"keyManager": "AWS"},
            "is an AWS managed key: its key policy cannot be changed and only its own service "
            "may use it; name a customer managed key",
        ),
    ],
)
def test_a_key_that_cannot_serve_is_refused(facts: dict[str, str], problem: str) -> None:
    assert refused({"kms": {"existingKeyArn": KEY}}, lookup_overrides={KEY: facts}) == [
        f'poolside:kms.existingKeyArn: {problem} (got "{KEY}")'
    ]


def test_a_bucket_in_another_region_is_refused() -> None:
    overrides = {"acme-data": {"bucketRegion": "eu-west-1"}}
    assert refused({"bucket": {"existingBucketName": "acme-data"}}, lookup_overrides=overrides) == [
        "poolside:bucket.existingBucketName: is in eu-west-1, not in the stack's region "
        'us-east-1: the deployment\'s key and endpoints are regional (got "acme-data")'
    ]


def test_lookups_are_reported_beside_the_other_environment_problems() -> None:
    """A GovCloud key in a commercial stack is refused by its ARN (not looked up); the missing
    bucket beside it."""
    gov_key = "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/" + KEY[-36:]
    problems = refused(
        {"kms": {"existingKeyArn": gov_key}, "bucket": {"existingBucketName": "acme-data"}},
        absent=("acme-data",),
    )
    assert [p.split(": ")[0] for p in problems] == [
        "poolside:kms.existingKeyArn",
        "poolside:bucket.existingBucketName",
    ]


def test_an_invoke_failure_reads_as_one_line() -> None:
    error = Exception(
        "invoke of aws:kms/getKey:getKey failed: reading KMS Key (x):\n  AccessDeniedException: "
        "User is not authorized to perform: kms:DescribeKey ()"
    )
    assert failure_reason(error) == (
        "reading KMS Key (x): AccessDeniedException: User is not authorized to perform: "
        "kms:DescribeKey"
    )
