"""The Poolside S3 bucket: private, versioned, encrypted with the deployment's key, TLS only."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.kms_key import KEY_DECRYPT_ACTIONS, KEY_ENCRYPT_DECRYPT_ACTIONS
from components.replacement import data
from policies.documents import Statement, document, render, statement

BUCKET_LIST_ACTIONS = ("s3:ListBucket",)
OBJECT_READ_ACTIONS = ("s3:GetObject",)
OBJECT_WRITE_ACTIONS = ("s3:PutObject",)


@dataclass(frozen=True)
class BucketArgs:
    bucket_name: str
    kms_key_arn: pulumi.Input[str]
    noncurrent_version_expiration_days: int
    tags: dict[str, str]
    retain_on_delete: bool = True


def tls_only_bucket_policy(bucket_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """Deny every request to the bucket or its objects that does not use TLS."""
    objects = pulumi.Output.concat(bucket_arn, "/*")
    deny = statement(
        "DenyInsecureTransport",
        ["s3:*"],
        [bucket_arn, objects],
        effect="Deny",
        principal="*",
        condition={"Bool": {"aws:SecureTransport": "false"}},
    )
    return render(document([deny]))


def read_statements(
    sid_prefix: str,
    bucket_arn: pulumi.Input[str],
    key_arn: pulumi.Input[str] | None,
    key_sid: str | None,
) -> list[Statement]:
    """List a bucket and get its objects; `kms:Decrypt` on `key_arn` unless either is None."""
    objects = pulumi.Output.concat(bucket_arn, "/*")
    statements = [
        statement(f"{sid_prefix}List", BUCKET_LIST_ACTIONS, [bucket_arn]),
        statement(f"{sid_prefix}ReadObjects", OBJECT_READ_ACTIONS, [objects]),
    ]
    if key_sid is not None and key_arn is not None:
        statements.append(statement(key_sid, KEY_DECRYPT_ACTIONS, [key_arn]))
    return statements


def read_write_statements(
    sid_prefix: str,
    bucket_arn: pulumi.Input[str],
    key_arn: pulumi.Input[str] | None,
    key_sid: str | None,
) -> list[Statement]:
    """List a bucket, get and put its objects; the key's encrypt-decrypt grant on `key_arn`
    unless either is None."""
    objects = pulumi.Output.concat(bucket_arn, "/*")
    statements = [
        statement(f"{sid_prefix}List", BUCKET_LIST_ACTIONS, [bucket_arn]),
        statement(
            f"{sid_prefix}ReadWriteObjects", OBJECT_READ_ACTIONS + OBJECT_WRITE_ACTIONS, [objects]
        ),
    ]
    if key_sid is not None and key_arn is not None:
        statements.append(statement(key_sid, KEY_ENCRYPT_DECRYPT_ACTIONS, [key_arn]))
    return statements


@dataclass(frozen=True)
class BucketFacts:
    """What S3 reports of an existing bucket (HeadBucket), as the program checks it."""

    name: str
    region: str


def look_up_bucket(name: str) -> BucketFacts:
    """HeadBucket (`aws.s3.get_bucket`); the invoke raises when the bucket does not exist or
    the caller may not list it."""
    found = aws.s3.get_bucket(bucket=name)
    return BucketFacts(name=found.bucket, region=found.bucket_region)


@dataclass(frozen=True)
class ExistingBucket:
    """A bucket this program does not manage (a customer's, named in config): grants by name.

    `kms_key_arn`: the key its objects are encrypted with, if SSE-KMS; None for SSE-S3, whose
    objects need no key grant."""

    partition: str
    name: str
    kms_key_arn: str | None = None

    @property
    def arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.name}"

    @property
    def bucket_name(self) -> str:
        return self.name

    def grant_read(
        self, sid_prefix: str = "Bucket", *, key_sid: str | None = "DecryptWithBucketKey"
    ) -> list[Statement]:
        """List the bucket and get its objects; `kms:Decrypt` on its key, if it has one."""
        return read_statements(sid_prefix, self.arn, self.kms_key_arn, key_sid)

    def grant_read_write(
        self, sid_prefix: str = "Bucket", *, key_sid: str | None = "UseBucketKey"
    ) -> list[Statement]:
        """List the bucket, get and put its objects; its key's encrypt-decrypt grant, if it
        has one (`key_sid=None` leaves it out)."""
        return read_write_statements(sid_prefix, self.arn, self.kms_key_arn, key_sid)

    def grant_key_beside(
        self, deployment_key_arn: pulumi.Input[str], sid: str = "UseBucketKey"
    ) -> list[Statement]:
        """For a role granted the deployment's key apart (and the bucket with `key_sid=None`):
        the encrypt-decrypt grant of the bucket's own key, unless it has none (SSE-S3) or it is
        that key."""
        if self.kms_key_arn is None or self.kms_key_arn == deployment_key_arn:
            return []
        return [statement(sid, KEY_ENCRYPT_DECRYPT_ACTIONS, [self.kms_key_arn])]


class Bucket(pulumi.ComponentResource):
    """The bucket plus its encryption, versioning, public-access, ownership, policy and lifecycle.

    Grants cover S3 only: a principal that reads or writes objects also needs the key's
    `grant_encrypt_decrypt()`, because every object is encrypted with the deployment's key.
    """

    arn: pulumi.Output[str]
    bucket_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: BucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("poolside:aws:Bucket", name, None, opts)
        # Retaining the bucket but deleting its public-access block or encryption settings would
        # leave customer data behind in a weaker bucket, so every child follows the same rule.
        child = pulumi.ResourceOptions(parent=self, retain_on_delete=args.retain_on_delete)

        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=args.bucket_name,
            force_destroy=False,
            tags=args.tags,
            opts=data(self, retain=args.retain_on_delete),
        )
        self._access(name, child)
        self._encryption_and_versioning(name, args, child)
        self._policy_and_lifecycle(name, args, child)

        self.arn = self.bucket.arn
        self.bucket_name = self.bucket.bucket
        self.kms_key_arn = pulumi.Output.from_input(args.kms_key_arn)
        self.register_outputs({"arn": self.arn, "bucketName": self.bucket_name})

    def _access(self, name: str, child: pulumi.ResourceOptions) -> None:
        """The bucket owner owns every object (no ACLs), and nothing is ever public."""
        bucket_id = self.bucket.id
        self.ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket_id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        self.public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )

    def _encryption_and_versioning(
        self, name: str, args: BucketArgs, child: pulumi.ResourceOptions
    ) -> None:
        """SSE-KMS with the deployment's key and an S3 bucket key; versioning on."""
        bucket_id = self.bucket.id
        self.encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket_id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": args.kms_key_arn,
                    },
                    # One data key per bucket instead of per object: far fewer KMS calls.
                    "bucket_key_enabled": True,
                }
            ],
            opts=child,
        )
        self.versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket_id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )

    def _policy_and_lifecycle(
        self, name: str, args: BucketArgs, child: pulumi.ResourceOptions
    ) -> None:
        """TLS-only access; noncurrent versions and stale multipart uploads expire."""
        bucket_id = self.bucket.id
        self.policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket_id,
            policy=tls_only_bucket_policy(self.bucket.arn),
            # S3 refuses concurrent changes to one bucket's settings; the policy goes last.
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[self.public_access_block])
            ),
        )
        self.lifecycle = aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket_id,
            rules=[
                {
                    "id": "expire-noncurrent-versions",
                    "status": "Enabled",
                    "filter": {},
                    "noncurrent_version_expiration": {
                        "noncurrent_days": args.noncurrent_version_expiration_days
                    },
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
                }
            ],
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[self.versioning])
            ),
        )

    def grant_read(
        self, sid_prefix: str = "Bucket", *, key_sid: str | None = "DecryptWithDeploymentKey"
    ) -> list[Statement]:
        """List the bucket and get its objects, and nothing else; and `kms:Decrypt` on the
        bucket's key, which every object is encrypted with (`key_sid=None` leaves it out)."""
        return read_statements(sid_prefix, self.arn, self.kms_key_arn, key_sid)

    def grant_read_write(
        self, sid_prefix: str = "Bucket", *, key_sid: str | None = "UseDeploymentKey"
    ) -> list[Statement]:
        """List the bucket, get and put its objects, and nothing else (no delete, no ACLs); and,
        since every object is encrypted with the bucket's key, that key's encrypt-decrypt grant
        (statement `key_sid`). `key_sid=None` leaves the key out, for a role that is granted the
        key by a policy of its own (the spec's pod role: S3 and KMS Access Policies apart)."""
        return read_write_statements(sid_prefix, self.arn, self.kms_key_arn, key_sid)

    def grant_key_beside(
        self, deployment_key_arn: pulumi.Input[str], sid: str = "UseBucketKey"
    ) -> list[Statement]:
        """None: a created bucket's key is the deployment's (see `ExistingBucket`)."""
        return []
