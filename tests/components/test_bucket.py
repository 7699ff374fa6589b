"""The deployment's bucket: exact inputs, options and grants."""

from __future__ import annotations

import json

import pulumi
import pytest

from components.bucket import Bucket, BucketArgs, ExistingBucket
from policies.documents import document, render
from tests.support.harness import KEY_ARN, PARTITIONS, TAGS, run_stack
from tests.support.policies import policy


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


OWN_KEY = KEY_ARN["aws"]
DEPLOYMENT_KEY = OWN_KEY.replace("00000000-0000-4000", "11111111-1111-4111")


def build_existing_grants() -> None:
    sse_kms = ExistingBucket("aws", "customer-data", OWN_KEY)
    sse_s3 = ExistingBucket("aws", "customer-data")
    pulumi.export("readWrite", render(document(sse_kms.grant_read_write("Data"))))
    pulumi.export("sseS3ReadWrite", render(document(sse_s3.grant_read_write("Data"))))
    pulumi.export("beside", render(document(sse_kms.grant_key_beside(DEPLOYMENT_KEY))))


def test_an_existing_bucket_grants_read_write_with_its_own_key_if_any() -> None:
    outputs = run_stack(program=build_existing_grants, key="existing-bucket-grants").stack_outputs
    bucket_statements = [
        {
            "Sid": "DataList",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": ["arn:aws:s3:::customer-data"],
        },
        {
            "Sid": "DataReadWriteObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": ["arn:aws:s3:::customer-data/*"],
        },
    ]
    own_key = {
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"],
        "Resource": [OWN_KEY],
    }
    assert json.loads(outputs["readWrite"])["Statement"] == [
        *bucket_statements,
        {"Sid": "UseBucketKey", **own_key},
    ]
    assert json.loads(outputs["sseS3ReadWrite"])["Statement"] == bucket_statements
    assert json.loads(outputs["beside"])["Statement"] == [{"Sid": "UseBucketKey", **own_key}]


def test_an_existing_buckets_key_is_granted_beside_only_when_it_is_another() -> None:
    bucket = ExistingBucket("aws", "customer-data", OWN_KEY)
    assert bucket.grant_key_beside(OWN_KEY) == []  # the deployment's key: granted apart already
    assert ExistingBucket("aws", "customer-data").grant_key_beside(OWN_KEY) == []  # SSE-S3
    assert bucket.bucket_name == "customer-data"
    assert bucket.arn == "arn:aws:s3:::customer-data"
