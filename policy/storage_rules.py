"""Data at rest: S3 buckets, KMS keys and ECR repositories.

With pulumi-aws 7 a bucket's encryption, versioning, public access block and policy are
resources of their own, tied to the bucket by its name: the bucket rules are stack rules that
find them (`Stack.referring_to`). The bucket's deprecated inline settings are not accepted in
their place: the provider only detects drift on them when they are set.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policy.iam_actions import glob_regex
from policy.iam_documents import as_list, statements
from policy.model import UNKNOWN, NotKnownError, Resource, ResourceRule, Stack, StackRule, reading

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
BUCKET_ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
BUCKET_ENCRYPTION_V2 = (
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
)
BUCKET_VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
BUCKET_VERSIONING_V2 = "aws:s3/bucketVersioningV2:BucketVersioningV2"
BUCKET_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
KMS_KEY = "aws:kms/key:Key"
ECR_REPOSITORY = "aws:ecr/repository:Repository"

KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
PUBLIC_ACCESS_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)


# pulumi-aws 7 keeps the V2 names of a bucket and two of its settings as deprecated types of
# their own (`aws:s3/bucketV2`, `...V2`); a setting of either name counts for a bucket of either.
_SETTING_TYPES = {
    BUCKET_ENCRYPTION: frozenset({BUCKET_ENCRYPTION, BUCKET_ENCRYPTION_V2}),
    BUCKET_VERSIONING: frozenset({BUCKET_VERSIONING, BUCKET_VERSIONING_V2}),
}


def _configurations(bucket: Resource, stack: Stack, type_: str) -> list[Resource]:
    types = _SETTING_TYPES.get(type_, frozenset({type_}))
    return stack.referring_to(bucket, types, "bucket", "bucket")


def _check_bucket_encryption(bucket: Resource, stack: Stack) -> Iterator[str]:
    configurations = _configurations(bucket, stack, BUCKET_ENCRYPTION)
    if not configurations:
        yield (
            "no BucketServerSideEncryptionConfiguration refers to the bucket: encrypt it with "
            "SSE-KMS (aws:kms) and the deployment's key"
        )
    for configuration in configurations:
        with reading(configuration):
            rules = configuration.items("rules")
            if not rules:
                yield f"{configuration.name} has no rules: encrypt with aws:kms"
            for index in range(len(rules)):
                default = configuration.get("rules", index, "applyServerSideEncryptionByDefault")
                default = default if isinstance(default, Mapping) else {}
                algorithm = default.get("sseAlgorithm")
                if algorithm not in KMS_ALGORITHMS:
                    yield (
                        f"{configuration.name} rules[{index}] encrypts with {algorithm!r}: use "
                        "aws:kms with the deployment's key"
                    )
                elif not default.get("kmsMasterKeyId"):
                    yield (
                        f"{configuration.name} rules[{index}] names no kmsMasterKeyId: the "
                        "AWS-managed aws/s3 key's policy cannot be scoped; use the deployment's key"
                    )


def _check_bucket_versioning(bucket: Resource, stack: Stack) -> Iterator[str]:
    configurations = _configurations(bucket, stack, BUCKET_VERSIONING)
    if not configurations:
        yield "no BucketVersioning refers to the bucket: enable versioning"
    for configuration in configurations:
        with reading(configuration):
            status = configuration.get("versioningConfiguration", "status")
        if status != "Enabled":
            yield f"{configuration.name} sets versioning {status!r}: it must be 'Enabled'"


def _check_public_access_block(bucket: Resource, stack: Stack) -> Iterator[str]:
    blocks = _configurations(bucket, stack, BUCKET_PUBLIC_ACCESS_BLOCK)
    if not blocks:
        yield "no BucketPublicAccessBlock refers to the bucket: block all four kinds of access"
    for block in blocks:
        with reading(block):
            off = [flag for flag in PUBLIC_ACCESS_FLAGS if block.get(flag) is not True]
        if off:
            yield f"{block.name} leaves {', '.join(off)} off: set all four"


def _everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    return isinstance(principal, Mapping) and as_list(principal.get("AWS")) == ["*"]


def _insecure_transport(condition: Any) -> bool:
    """Whether the condition is exactly `aws:SecureTransport` false (under `Bool`)."""
    if not isinstance(condition, Mapping) or set(condition) != {"Bool"}:
        return False
    keys = condition["Bool"]
    if not isinstance(keys, Mapping) or [k.lower() for k in keys] != ["aws:securetransport"]:
        return False
    return [str(v).lower() for v in as_list(next(iter(keys.values())))] == ["false"]


def _covers(resources: list[Any], name: str) -> tuple[bool, bool]:
    """Whether the resources cover the bucket, and every object in it."""
    bucket = objects = False
    for resource in resources:
        if resource == "*":
            return True, True
        parts = str(resource).split(":", 5)
        if len(parts) < 6 or parts[0] != "arn" or parts[2] != "s3":
            continue
        pattern = glob_regex(parts[5])
        bucket = bucket or pattern.fullmatch(name) is not None
        # A key no narrower pattern would match: only `<bucket>/*` (or wider) matches it.
        objects = objects or pattern.fullmatch(f"{name}/\x00any key") is not None
    return bucket, objects


def _denies_insecure_transport(statement: Mapping[str, Any], name: str) -> bool:
    actions = {str(a).lower() for a in as_list(statement.get("Action"))}
    return (
        statement.get("Effect") == "Deny"
        and _everyone(statement.get("Principal"))
        and bool(actions & {"*", "s3:*"})
        and _insecure_transport(statement.get("Condition"))
        and _covers(as_list(statement.get("Resource")), name) == (True, True)
    )


def _check_tls_only(bucket: Resource, stack: Stack) -> Iterator[str]:
    name = bucket.get("bucket")
    if name is None:  # named by the provider when it is created
        raise NotKnownError("bucket", UNKNOWN)
    for bucket_policy in _configurations(bucket, stack, BUCKET_POLICY):
        with reading(bucket_policy):
            document = bucket_policy.document("policy")
        if any(_denies_insecure_transport(s, str(name)) for _, s in statements(document)):
            return
    yield (
        "no bucket policy denies requests without TLS: Deny s3:* to everyone when "
        "aws:SecureTransport is false, on the bucket and its objects"
    )


def _check_key_rotation(key: Resource) -> Iterator[str]:
    spec = key.get("customerMasterKeySpec") or key.get("keySpec") or "SYMMETRIC_DEFAULT"
    usage = key.get("keyUsage") or "ENCRYPT_DECRYPT"
    if spec != "SYMMETRIC_DEFAULT" or usage != "ENCRYPT_DECRYPT" or key.get("customKeyStoreId"):
        return  # KMS rotates only symmetric encryption keys with key material it generates
    if key.get("enableKeyRotation") is not True:
        yield "enableKeyRotation is not true: a symmetric key must rotate its key material"


def _check_scan_on_push(repository: Resource) -> Iterator[str]:
    if repository.get("imageScanningConfiguration", "scanOnPush") is not True:
        yield "images are not scanned on push: set imageScanningConfiguration.scanOnPush"


def _check_repository_kms(repository: Resource) -> Iterator[str]:
    configuration = repository.get("encryptionConfigurations", 0) or {}
    kind = configuration.get("encryptionType") if isinstance(configuration, Mapping) else None
    if kind not in ("KMS", "KMS_DSSE"):
        yield (
            f"encryptionType is {kind or 'AES256 (the default)'}: encrypt with KMS and the "
            "deployment's key"
        )
    elif not configuration.get("kmsKey"):
        yield "encryption names no kmsKey: use the deployment's key, not the AWS-managed one"


_BUCKETS = frozenset({BUCKET, BUCKET_V2})

RULES = (
    StackRule(
        name="s3-bucket-kms-encryption",
        description="A bucket is encrypted by default with SSE-KMS under a named key.",
        types=_BUCKETS,
        check=_check_bucket_encryption,
    ),
    StackRule(
        name="s3-bucket-versioning",
        description="A bucket keeps versions of its objects (versioning Enabled).",
        types=_BUCKETS,
        check=_check_bucket_versioning,
    ),
    StackRule(
        name="s3-bucket-public-access-block",
        description="A bucket blocks public ACLs and policies, all four settings on.",
        types=_BUCKETS,
        check=_check_public_access_block,
    ),
    StackRule(
        name="s3-bucket-tls-only",
        description=(
            "A bucket's policy denies every S3 action to everyone when aws:SecureTransport "
            "is false."
        ),
        types=_BUCKETS,
        check=_check_tls_only,
    ),
    ResourceRule(
        name="kms-key-rotation",
        description="A symmetric KMS key rotates its key material (enableKeyRotation).",
        types=frozenset({KMS_KEY}),
        check=_check_key_rotation,
    ),
    ResourceRule(
        name="ecr-scan-on-push",
        description="An ECR repository scans every image pushed to it.",
        types=frozenset({ECR_REPOSITORY}),
        check=_check_scan_on_push,
    ),
    ResourceRule(
        name="ecr-kms-encryption",
        description="An ECR repository encrypts images with KMS under a named key.",
        types=frozenset({ECR_REPOSITORY}),
        check=_check_repository_kms,
    ),
)
