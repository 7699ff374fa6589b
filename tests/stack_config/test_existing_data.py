"""`poolside:kms.existingKeyArn`, `poolside:bucket.existingBucketName` and
`existingBucketKmsKeyArn`: what they accept, and one line naming the key for what they refuse."""

from __future__ import annotations

from typing import Any

import pytest

from stack_config import StackConfigError, check_against_environment
from tests.support.config import parse, problems

KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-4333-8444-555555555555"
BUCKET_KEY = "arn:aws:kms:us-east-1:123456789012:key/22222222-2222-4333-8444-555555555555"
MULTI_REGION_KEY = "arn:aws:kms:us-east-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef"
KEY_FORM = "arn:<partition>:kms:<region>:<account>:key/<id>"
ALIAS_RULE = (
    "must be the key's ARN, not an alias (IAM grants and key policies name the key itself; "
    f"`aws kms describe-key --key-id <alias>` shows its {KEY_FORM})"
)


def kms_problems(value: str) -> list[str]:
    return problems({"deploymentName": "acme", "kms": {"existingKeyArn": value}})


@pytest.mark.parametrize(
    "value",
    [KEY, MULTI_REGION_KEY, "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/" + KEY[-36:]],
)
def test_a_key_arn_of_any_partition_is_accepted_by_the_model(value: str) -> None:
    config = parse({"deploymentName": "acme", "kms": {"existingKeyArn": value}})
    assert config.kms.existing_key_arn == value
    assert config.existing_key_arns == {("kms", "existingKeyArn"): value}


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("alias/customer-data", ALIAS_RULE),
        ("arn:aws:kms:us-east-1:123456789012:alias/customer-data", ALIAS_RULE),
        (KEY[-36:], f"must be the key's full ARN, not its id: {KEY_FORM}"),
        (
            "arn:aws:kms:us-east-1:1234:key/" + KEY[-36:],
            f"must be the ARN of a KMS key ({KEY_FORM})",
        ),
        (
            "arn:aws:kms:us-east-1:123456789012:key/not-a-key",
            f"must be the ARN of a KMS key ({KEY_FORM})",
        ),
        ("arn:aws:s3:::customer-data", f"must be the ARN of a KMS key ({KEY_FORM})"),
    ],
)
def test_a_malformed_key_is_one_line_naming_the_key(value: str, rule: str) -> None:
    assert kms_problems(value) == [f'poolside:kms.existingKeyArn: {rule} (got "{value}")']


def test_settings_of_a_created_key_are_refused_beside_an_existing_one() -> None:
    assert problems(
        {
            "deploymentName": "acme",
            "kms": {
                "existingKeyArn": KEY,
                "deletionWindowInDays": 7,
                "alias": "alias/acme",
                "retainOnDelete": True,  # the default, but given: still moot
            },
        }
    ) == [
        f"poolside:kms.{key}: only applies to the key this stack creates; remove it or "
        "poolside:kms.existingKeyArn"
        for key in ("deletionWindowInDays", "alias", "retainOnDelete")
    ]


def test_a_malformed_existing_key_and_a_created_key_setting_are_both_reported() -> None:
    alias = "arn:aws:kms:us-east-1:123456789012:alias/customer-data"
    kms = {"existingKeyArn": alias, "deletionWindowInDays": 7}
    assert problems({"deploymentName": "acme", "kms": kms}) == [
        f'poolside:kms.existingKeyArn: {ALIAS_RULE} (got "{alias}")',
        "poolside:kms.deletionWindowInDays: only applies to the key this stack creates; remove "
        "it or poolside:kms.existingKeyArn",
    ]


def test_a_malformed_created_bucket_setting_beside_an_existing_bucket_says_to_remove_it() -> None:
    bucket = {"existingBucketName": "acme-data", "name": "x", "noncurrentVersionExpirationDays": 0}
    assert problems({"deploymentName": "acme", "bucket": bucket}) == [
        "poolside:bucket.noncurrentVersionExpirationDays: must be 1-3650 days (got 0)",
        "poolside:bucket.name: only applies to the bucket this stack creates; remove it or "
        "poolside:bucket.existingBucketName",
    ]


def test_settings_of_a_created_bucket_are_refused_beside_an_existing_one() -> None:
    assert problems(
        {
            "deploymentName": "acme",
            "bucket": {
                "existingBucketName": "acme-data",
                "name": "acme-x",
                "retainOnDelete": False,
            },
        }
    ) == [
        f"poolside:bucket.{key}: only applies to the bucket this stack creates; remove it or "
        "poolside:bucket.existingBucketName"
        for key in ("name", "retainOnDelete")
    ]
    assert problems({"deploymentName": "acme", "bucket": {"existingBucketKmsKeyArn": KEY}}) == [
        "poolside:bucket.existingBucketKmsKeyArn: only applies with "
        "poolside:bucket.existingBucketName (the created bucket uses the deployment's key)"
    ]
    assert problems(
        {"deploymentName": "acme", "bucket": {"existingBucketName": "Not_A_Bucket"}}
    ) == [
        "poolside:bucket.existingBucketName: must be an S3 bucket name: 3-63 lowercase letters, "
        'digits, dots or hyphens, starting and ending with a letter or digit (got "Not_A_Bucket")'
    ]


def test_the_lifecycle_setting_is_refused_only_when_no_bucket_is_created() -> None:
    existing: dict[str, Any] = {"existingBucketName": "acme-data"}
    lifecycle = {**existing, "noncurrentVersionExpirationDays": 30}
    # the models bucket is still created: the setting is its
    config = parse({"deploymentName": "acme", "bucket": lifecycle})
    assert config.bucket.noncurrent_version_expiration_days == 30
    moot = (
        "poolside:bucket.noncurrentVersionExpirationDays: only applies to the buckets this stack "
        "creates, and with poolside:bucket.existingBucketName it creates none (the models "
        "bucket is switched off or existing); remove it"
    )
    for inference in ({"enabled": False}, {"existingBucketName": "acme-models"}):
        assert problems(
            {"deploymentName": "acme", "bucket": lifecycle, "inference": inference}
        ) == [moot]
        parse({"deploymentName": "acme", "bucket": existing, "inference": inference})


def test_the_bucket_key_defaults_to_the_existing_deployment_key() -> None:
    def key_of(kms: dict[str, str], bucket: dict[str, str]) -> str | None:
        config = parse({"deploymentName": "acme", "kms": kms, "bucket": bucket})
        return config.data_bucket_key_arn

    existing = {"existingBucketName": "acme-data"}
    assert key_of({"existingKeyArn": KEY}, existing) == KEY
    assert key_of({"existingKeyArn": KEY}, {**existing, "existingBucketKmsKeyArn": BUCKET_KEY}) == (
        BUCKET_KEY
    )
    assert key_of({}, {**existing, "existingBucketKmsKeyArn": BUCKET_KEY}) == BUCKET_KEY
    assert key_of({}, existing) is None  # SSE-S3: no key grant
    assert key_of({"existingKeyArn": KEY}, {}) is None  # a created bucket: the deployment's key


def environment_problems(raw: dict[str, Any], *, partition: str, region: str) -> list[str]:
    config = parse({"deploymentName": "acme", **raw})
    try:
        check_against_environment(
            config, partition=partition, region=region, account_id="123456789012"
        )
    except StackConfigError as error:
        return error.problems
    return []


def test_a_key_of_another_partition_or_region_is_refused_naming_its_key() -> None:
    raw = {
        "kms": {"existingKeyArn": KEY},
        "bucket": {"existingBucketName": "acme-data", "existingBucketKmsKeyArn": BUCKET_KEY},
    }
    assert environment_problems(raw, partition="aws", region="us-east-1") == []
    assert environment_problems(raw, partition="aws-us-gov", region="us-gov-west-1") == [
        f"poolside:kms.existingKeyArn: must be a key of the stack's partition aws-us-gov "
        f'(got "{KEY}")',
        "poolside:bucket.existingBucketKmsKeyArn: must be a key of the stack's partition "
        f'aws-us-gov (got "{BUCKET_KEY}")',
    ]
    region_rule = (
        "must be a key in the stack's region eu-west-1: S3, EBS, ECR, EKS and DynamoDB use a key "
        "of their own region only (for a multi-Region key, its replica's ARN in eu-west-1)"
    )
    assert environment_problems(raw, partition="aws", region="eu-west-1") == [
        f'poolside:kms.existingKeyArn: {region_rule} (got "{KEY}")',
        f'poolside:bucket.existingBucketKmsKeyArn: {region_rule} (got "{BUCKET_KEY}")',
    ]


def test_the_existing_data_bucket_is_not_the_models_bucket() -> None:
    raw = {
        "bucket": {"existingBucketName": "acme-data"},
        "inference": {"existingBucketName": "acme-data"},
    }
    assert environment_problems(raw, partition="aws", region="us-east-1") == [
        "poolside:inference.existingBucketName: is the deployment's data bucket; the inference "
        'role reads model checkpoints only: name the models bucket (got "acme-data")'
    ]


def test_the_existing_keys_are_the_data_keys_and_the_models_buckets() -> None:
    models_key = KEY.replace("11111111", "33333333")
    config = parse(
        {
            "deploymentName": "acme",
            "kms": {"existingKeyArn": KEY},
            "bucket": {"existingBucketName": "acme-data", "existingBucketKmsKeyArn": BUCKET_KEY},
            "inference": {
                "existingBucketName": "acme-models",
                "existingBucketKmsKeyArn": models_key,
            },
        }
    )
    assert config.data_key_arns == {
        ("kms", "existingKeyArn"): KEY,
        ("bucket", "existingBucketKmsKeyArn"): BUCKET_KEY,
    }
    assert config.existing_key_arns == {
        **config.data_key_arns,
        ("inference", "existingBucketKmsKeyArn"): models_key,
    }
    assert parse({"deploymentName": "acme"}).existing_key_arns == {}
