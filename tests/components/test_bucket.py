"""The KMS key, the bucket and the ECR repositories: exact inputs, options and grants."""

from __future__ import annotations

import json
import re

import pulumi
import pytest

from components.bucket import Bucket, BucketArgs
from components.ecr_repositories import EcrRepositories, EcrRepositoriesArgs
from components.kms_key import KmsKey, KmsKeyArgs
from policies.documents import document, render
from tests.support.harness import ACCOUNT_ID, PARTITIONS, REGIONS, environment, policy, run_stack

TAGS = {"owner": "platform", "poolside:deployment": "acme"}
KEY_ARN = {
    p: f"arn:{p}:kms:{REGIONS[p]}:{ACCOUNT_ID}:key/00000000-0000-4000-8000-000000000000"
    for p in PARTITIONS
}


def build_key(partition: str, retain: bool = True) -> None:
    key = KmsKey(
        "kms",
        KmsKeyArgs(
            env=environment(partition),
            alias="alias/poolside-acme",
            deletion_window_in_days=7,
            description="test key",
            tags=TAGS,
            retain_on_delete=retain,
        ),
    )
    pulumi.export("grant", render(document(key.grant_encrypt_decrypt())))
    pulumi.export("arn", key.arn)


@pytest.mark.parametrize("partition", PARTITIONS)
def test_kms_key_rotates_and_lets_iam_policies_grant_use(partition: str) -> None:
    recording = run_stack(partition=partition, program=lambda: build_key(partition))
    key = recording.one("aws:kms/key:Key", "kms-key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 7
    assert key.inputs["keyUsage"] == "ENCRYPT_DECRYPT"
    assert key.inputs["customerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
    assert key.inputs["tags"] == TAGS
    assert key.retain_on_delete is True
    assert policy(key) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EnableIamPoliciesForThisAccount",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{ACCOUNT_ID}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    alias = recording.one("aws:kms/alias:Alias", "kms-alias")
    assert alias.inputs["name"] == "alias/poolside-acme"
    assert alias.inputs["targetKeyId"] == key.outputs["keyId"]
    assert alias.parent == recording.one("poolside:aws:KmsKey", "kms").urn


def test_key_grant_is_envelope_encryption_on_this_key_only() -> None:
    recording = run_stack(program=lambda: build_key("aws"))
    arn = recording.stack_outputs["arn"]
    assert re.fullmatch(r"arn:aws:kms:us-east-1:123456789012:key/[0-9a-f-]{36}", arn)
    assert json.loads(recording.stack_outputs["grant"])["Statement"] == [
        {
            "Sid": "UseDeploymentKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"],
            "Resource": [arn],
        }
    ]


def test_key_can_be_deleted_with_the_stack_when_asked() -> None:
    recording = run_stack(program=lambda: build_key("aws", retain=False))
    assert not recording.one("aws:kms/key:Key", "kms-key").retain_on_delete
    assert not recording.one("aws:kms/alias:Alias", "kms-alias").retain_on_delete


def build_bucket(partition: str, retain: bool = True) -> None:
    bucket = Bucket(
        "data",
        BucketArgs(
            bucket_name="poolside-acme-123456789012",
            kms_key_arn=KEY_ARN[partition],
            noncurrent_version_expiration_days=45,
            tags=TAGS,
            retain_on_delete=retain,
        ),
    )
    pulumi.export("readWrite", render(document(bucket.grant_read_write())))
    pulumi.export("read", render(document(bucket.grant_read())))
    pulumi.export("s3Only", render(document(bucket.grant_read_write(key_sid=None))))


BUCKET_CHILDREN = {
    "aws:s3/bucket:Bucket": "data-bucket",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "data-ownership",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "data-public-access-block",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "data-encryption"
    ),
    "aws:s3/bucketVersioning:BucketVersioning": "data-versioning",
    "aws:s3/bucketPolicy:BucketPolicy": "data-policy",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "data-lifecycle",
}


@pytest.mark.parametrize("partition", PARTITIONS)
def test_bucket_is_private_versioned_kms_encrypted_and_tls_only(partition: str) -> None:
    recording = run_stack(partition=partition, program=lambda: build_bucket(partition))
    component = recording.one("poolside:aws:Bucket", "data")
    children = [r for r in recording.resources if r.parent == component.urn]
    assert {r.type: r.name for r in children} == BUCKET_CHILDREN
    assert all(r.retain_on_delete for r in children)

    bucket = recording.one("aws:s3/bucket:Bucket", "data-bucket")
    name = "poolside-acme-123456789012"
    assert bucket.inputs == {"bucket": name, "forceDestroy": False, "tags": TAGS}
    for child in children:
        if child is not bucket:
            assert child.inputs["bucket"] == name, child.name

    assert recording.one(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "data-public-access-block"
    ).inputs == {
        "bucket": name,
        "blockPublicAcls": True,
        "blockPublicPolicy": True,
        "ignorePublicAcls": True,
        "restrictPublicBuckets": True,
    }
    assert recording.one(
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "data-ownership"
    ).inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    encryption = recording.one(BUCKET_CHILDREN_TYPE_ENCRYPTION, "data-encryption")
    assert encryption.inputs["rules"] == [
        {
            "applyServerSideEncryptionByDefault": {
                "sseAlgorithm": "aws:kms",
                "kmsMasterKeyId": KEY_ARN[partition],
            },
            "bucketKeyEnabled": True,
        }
    ]
    assert recording.one("aws:s3/bucketVersioning:BucketVersioning", "data-versioning").inputs[
        "versioningConfiguration"
    ] == {"status": "Enabled"}
    lifecycle = recording.one(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "data-lifecycle"
    )
    assert lifecycle.inputs["rules"] == [
        {
            "id": "expire-noncurrent-versions",
            "status": "Enabled",
            "filter": {},
            "noncurrentVersionExpiration": {"noncurrentDays": 45},
            "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
        }
    ]
    arn = f"arn:{partition}:s3:::{name}"
    bucket_policy = recording.one("aws:s3/bucketPolicy:BucketPolicy", "data-policy")
    assert policy(bucket_policy) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["s3:*"],
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    public_access_block = recording.one(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "data-public-access-block"
    )
    assert public_access_block.urn in bucket_policy.dependencies


BUCKET_CHILDREN_TYPE_ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)


@pytest.mark.parametrize("partition", PARTITIONS)
def test_bucket_grants_are_exactly_list_get_put_on_this_bucket(partition: str) -> None:
    recording = run_stack(partition=partition, program=lambda: build_bucket(partition))
    arn = f"arn:{partition}:s3:::poolside-acme-123456789012"
    key = KEY_ARN[partition]
    # Every object is SSE-KMS: a bucket grant carries its key's grant, or the objects are
    # unreadable (`key_sid=None` leaves it to a separate KMS policy, as the pod role's).
    s3_read_write = [
        {"Sid": "BucketList", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [arn]},
        {
            "Sid": "BucketReadWriteObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": [f"{arn}/*"],
        },
    ]
    assert json.loads(recording.stack_outputs["s3Only"])["Statement"] == s3_read_write
    assert json.loads(recording.stack_outputs["readWrite"])["Statement"] == [
        *s3_read_write,
        {
            "Sid": "UseDeploymentKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"],
            "Resource": [key],
        },
    ]
    assert json.loads(recording.stack_outputs["read"])["Statement"] == [
        {"Sid": "BucketList", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [arn]},
        {
            "Sid": "BucketReadObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{arn}/*"],
        },
        {
            "Sid": "DecryptWithDeploymentKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": [key],
        },
    ]


def test_bucket_can_be_deleted_with_the_stack_when_asked() -> None:
    recording = run_stack(program=lambda: build_bucket("aws", retain=False))
    component = recording.one("poolside:aws:Bucket", "data")
    assert not any(r.retain_on_delete for r in recording.resources if r.parent == component.urn)


def build_repositories(partition: str, repositories: list[str]) -> None:
    ecr = EcrRepositories(
        "ecr",
        EcrRepositoriesArgs(
            env=environment(partition),
            namespace="poolside-acme",
            repositories=repositories,
            kms_key_arn=KEY_ARN[partition],
            image_tag_mutability="IMMUTABLE",
            scan_on_push=True,
            untagged_image_expiration_days=10,
            tags=TAGS,
        ),
    )
    pulumi.export("push", render(document(ecr.grant_push())))
    pulumi.export("pull", render(document(ecr.grant_pull())))
    pulumi.export("urls", ecr.urls)
    pulumi.export("names", ecr.names)


@pytest.mark.parametrize("partition", PARTITIONS)
def test_ecr_repositories_are_namespaced_scanned_encrypted_and_expire_untagged(
    partition: str,
) -> None:
    recording = run_stack(
        partition=partition, program=lambda: build_repositories(partition, ["api", "team/web"])
    )
    repos = recording.by_type("aws:ecr/repository:Repository")
    assert sorted(r.inputs["name"] for r in repos) == [
        "poolside-acme/api",
        "poolside-acme/team/web",
    ]
    for repo in repos:
        assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
        assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
        assert repo.inputs["encryptionConfigurations"] == [
            {"encryptionType": "KMS", "kmsKey": KEY_ARN[partition]}
        ]
        assert repo.inputs["forceDelete"] is False
        assert repo.inputs["tags"] == TAGS
        assert repo.retain_on_delete
    lifecycles = recording.by_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    assert sorted(r.inputs["repository"] for r in lifecycles) == [
        "poolside-acme/api",
        "poolside-acme/team/web",
    ]
    assert json.loads(lifecycles[0].inputs["policy"]) == {
        "rules": [
            {
                "rulePriority": 1,
                "description": "Expire untagged images after 10 days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": 10,
                },
                "action": {"type": "expire"},
            }
        ]
    }
    suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    registry = f"{ACCOUNT_ID}.dkr.ecr.{REGIONS[partition]}.{suffix}"
    assert recording.stack_outputs["urls"] == {
        "api": f"{registry}/poolside-acme/api",
        "team/web": f"{registry}/poolside-acme/team/web",
    }


@pytest.mark.parametrize("partition", PARTITIONS)
def test_ecr_grants_reach_this_deployments_repositories_only(partition: str) -> None:
    recording = run_stack(partition=partition, program=lambda: build_repositories(partition, []))
    pattern = f"arn:{partition}:ecr:{REGIONS[partition]}:{ACCOUNT_ID}:repository/poolside-acme/*"
    login = {
        "Sid": "EcrLogin",
        "Effect": "Allow",
        "Action": ["ecr:GetAuthorizationToken"],
        "Resource": "*",
    }
    assert json.loads(recording.stack_outputs["pull"])["Statement"] == [
        login,
        {
            "Sid": "EcrPull",
            "Effect": "Allow",
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Resource": [pattern],
        },
    ]
    push = json.loads(recording.stack_outputs["push"])["Statement"]
    assert push[1]["Action"] == [
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchCheckLayerAvailability",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "ecr:PutImage",
    ]
    assert push[1]["Resource"] == [pattern]
    assert recording.stack_outputs["names"] == {}


def iam_match(pattern: str, arn: str) -> bool:
    """IAM's ARN wildcard match: `*` any run of characters, `?` one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, arn) is not None


def test_ecr_pattern_does_not_reach_a_neighbouring_deployment() -> None:
    recording = run_stack(program=lambda: build_repositories("aws", []))
    [pattern] = json.loads(recording.stack_outputs["pull"])["Statement"][1]["Resource"]
    prefix = f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/"
    assert iam_match(pattern, prefix + "poolside-acme/api")
    assert iam_match(pattern, prefix + "poolside-acme/team/web")
    assert not iam_match(pattern, prefix + "poolside-acmecorp/api")
    assert not iam_match(pattern, prefix + "poolside-acme")
    assert not iam_match(pattern, f"arn:aws:ecr:us-west-2:{ACCOUNT_ID}:repository/poolside-acme/a")
