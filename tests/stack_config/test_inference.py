"""`poolside:podRole.serviceAccounts` as the charts name them, and `poolside:inference`: what
they accept, and one line naming the key for what they refuse."""

from __future__ import annotations

import pytest

from tests.support.config import parse, problems

KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-4333-8444-555555555555"
SERVICE_ACCOUNT_RULE = (
    "must be a service account name (in podRole.namespace) or `<namespace>:<name>`, each a "
    "lowercase DNS name (a `*` in the name allows a pattern)"
)


def test_a_name_takes_the_sections_namespace_and_a_namespaced_one_its_own() -> None:
    config = parse(
        {
            "deploymentName": "acme",
            "podRole": {"namespace": "apps", "serviceAccounts": ["core-api-sa", "jobs:runner"]},
        }
    )
    assert config.pod_role.subjects == ["apps:core-api-sa", "jobs:runner"]


@pytest.mark.parametrize("account", ["a:b:c", "Core-Api", ":name", "ns:", "-ns:name", "ns:-x"])
def test_malformed_service_accounts_are_one_line_naming_the_key(account: str) -> None:
    assert problems({"deploymentName": "acme", "podRole": {"serviceAccounts": [account]}}) == [
        f'poolside:podRole.serviceAccounts[0]: {SERVICE_ACCOUNT_RULE} (got "{account}")'
    ]


def test_bad_inference_values_are_one_line_each_naming_the_key() -> None:
    assert problems(
        {
            "deploymentName": "acme",
            "inference": {
                "namespace": "Models_NS",
                "serviceAccount": "a:b",
                "existingBucketName": "Not_A_Bucket",
                "existingBucketKmsKeyArn": "alias/models",
            },
        }
    ) == [
        "poolside:inference.namespace: must be a Kubernetes name (lowercase DNS label) "
        '(got "Models_NS")',
        "poolside:inference.serviceAccount: must be a Kubernetes service account name (a `*` "
        'allows a pattern) (got "a:b")',
        "poolside:inference.existingBucketName: must be an S3 bucket name: 3-63 lowercase "
        "letters, digits, dots or hyphens, starting and ending with a letter or digit "
        '(got "Not_A_Bucket")',
        "poolside:inference.existingBucketKmsKeyArn: must be the key's ARN, not an alias (IAM "
        "grants and key policies name the key itself; `aws kms describe-key --key-id <alias>` "
        'shows its arn:<partition>:kms:<region>:<account>:key/<id>) (got "alias/models")',
    ]


def test_settings_that_would_be_ignored_are_refused() -> None:
    assert problems(
        {
            "deploymentName": "acme",
            "inference": {"existingBucketKmsKeyArn": KEY},
        }
    ) == [
        "poolside:inference.existingBucketKmsKeyArn: only applies with "
        "poolside:inference.existingBucketName (the created bucket uses the deployment's key)"
    ]
    assert problems(
        {
            "deploymentName": "acme",
            "inference": {"existingBucketName": "customer-models", "retainOnDelete": True},
        }
    ) == [
        "poolside:inference.retainOnDelete: only applies to the models bucket this stack "
        "creates; remove it or poolside:inference.existingBucketName"
    ]


def test_the_data_bucket_and_another_partitions_key_are_refused_for_the_models() -> None:
    from stack_config import StackConfigError, check_against_environment

    config = parse(
        {
            "deploymentName": "acme",
            "inference": {
                "existingBucketName": "poolside-acme-123456789012",  # the default data bucket
                "existingBucketKmsKeyArn": KEY,  # an `aws` key in a GovCloud stack
            },
        }
    )
    with pytest.raises(StackConfigError) as caught:
        check_against_environment(
            config, partition="aws-us-gov", region="us-gov-west-1", account_id="123456789012"
        )
    assert caught.value.problems == [
        "poolside:inference.existingBucketName: is the deployment's data bucket; the inference "
        'role reads model checkpoints only: name the models bucket (got "poolside-acme-123456789012")',
        "poolside:inference.existingBucketKmsKeyArn: must be a key of the stack's partition "
        f'aws-us-gov (got "{KEY}")',
    ]
    # a named data bucket is recognised by its name too
    named = parse(
        {
            "deploymentName": "acme",
            "bucket": {"name": "acme-data"},
            "inference": {"existingBucketName": "acme-data"},
        }
    )
    with pytest.raises(StackConfigError) as caught:
        check_against_environment(
            named, partition="aws", region="us-east-1", account_id="123456789012"
        )
    assert [p.split(":", 2)[1] for p in caught.value.problems] == ["inference.existingBucketName"]
    # the customer's models bucket, with a key of the partition, passes
    fine = parse(
        {
            "deploymentName": "acme",
            "inference": {"existingBucketName": "acme-models", "existingBucketKmsKeyArn": KEY},
        }
    )
    check_against_environment(fine, partition="aws", region="us-east-1", account_id="123456789012")
