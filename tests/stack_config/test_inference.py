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
        "poolside:inference.existingBucketKmsKeyArn: must be the ARN of a KMS key "
        '(arn:<partition>:kms:<region>:<account>:key/<id>) (got "alias/models")',
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
