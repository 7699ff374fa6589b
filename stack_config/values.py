"""Value rules: the regexes, the checks of single values and the `Annotated` types built on them.

Each rule raises ValueError with what is allowed; the formatter (`stack_config.parsing`) adds the
key and the value. The section models (`stack_config.sections`) type their fields with these.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from naming import DEPLOYMENT_TAG, IAM_ROLE_NAME_MAX, MAX_PREFIX_LENGTH

# Names, and the limits they set (the longest role name caps the prefix), come from `naming`.
_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
_IPV4 = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_KMS_ALIAS = re.compile(r"^alias/[a-zA-Z0-9/_-]+$")
_ECR_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")


def _dns_label(value: str) -> str:
    if not (3 <= len(value) <= 32 and _DNS_LABEL.match(value)):
        raise ValueError("must be a lowercase DNS label of 3-32 characters")
    return value


def _prefix(value: str) -> str:
    if not (3 <= len(value) <= MAX_PREFIX_LENGTH and _DNS_LABEL.match(value)):
        raise ValueError(
            f"must be 3-{MAX_PREFIX_LENGTH} lowercase letters, digits or hyphens, starting and "
            f"ending with a letter or digit (IAM role names cap at {IAM_ROLE_NAME_MAX} characters)"
        )
    return value


def _bucket_name(value: str) -> str:
    if not (3 <= len(value) <= 63 and _BUCKET_NAME.match(value)):
        raise ValueError(
            "must be an S3 bucket name: 3-63 lowercase letters, digits, dots or hyphens, "
            "starting and ending with a letter or digit"
        )
    if ".." in value or _IPV4.match(value) or value.startswith(("xn--", "sthree-")):
        raise ValueError("must be an S3 bucket name (no '..', no IP address, no reserved prefix)")
    if value.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3")):
        raise ValueError("must be an S3 bucket name (the suffix is reserved by S3)")
    return value


def _kms_alias(value: str) -> str:
    if not _KMS_ALIAS.match(value) or value.startswith("alias/aws/") or len(value) > 256:
        raise ValueError(
            "must be 'alias/<name>' with letters, digits, '/', '_' or '-' "
            "(and not under the AWS-reserved 'alias/aws/')"
        )
    return value


def _ecr_repository(value: str) -> str:
    if not (1 <= len(value) <= 200 and _ECR_NAME.match(value)):
        raise ValueError(
            "must be an ECR repository name: lowercase letters and digits, "
            "separated by '.', '_', '-' or '/'"
        )
    return value


def between(low: int, high: int, unit: str) -> AfterValidator:
    """An integer rule: `low`-`high` (inclusive) of `unit`."""

    def check(value: int) -> int:
        if not low <= value <= high:
            raise ValueError(f"must be {low}-{high} {unit}")
        return value

    return AfterValidator(check)


def unique(values: list[str]) -> list[str]:
    """A list rule: no name twice."""
    duplicates = sorted({v for v in values if values.count(v) > 1})
    if duplicates:
        raise ValueError(f"must not repeat names (repeated: {', '.join(duplicates)})")
    return values


def _tags(tags: dict[str, str]) -> dict[str, str]:
    for key, value in tags.items():
        if not 1 <= len(key) <= 128:
            raise ValueError(f"tag key {key!r} must be 1-128 characters")
        if key.lower().startswith("aws:"):
            raise ValueError(f"tag key {key!r} uses the AWS-reserved prefix 'aws:'")
        if key == DEPLOYMENT_TAG:
            raise ValueError(f"tag key {key!r} is set by the program to deploymentName")
        if len(value) > 256:
            raise ValueError(f"tag value of {key!r} must be at most 256 characters")
    if len(tags) > 40:
        raise ValueError("must have at most 40 tags (S3 and ECR allow 50 per resource in all)")
    return tags


def pattern(regex: str, what: str) -> AfterValidator:
    """A string rule: the whole value matches `regex`; else "must be <what>"."""
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"must be {what}")
        return value

    return AfterValidator(check)


def _cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        raise ValueError("must be a CIDR block such as 203.0.113.0/24") from None
    if network.prefixlen == 0:
        raise ValueError("must not open the API endpoint to the whole internet")
    return value


DnsLabel = Annotated[str, AfterValidator(_dns_label)]
KubernetesName = Annotated[
    str, pattern(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", "a Kubernetes name (lowercase DNS label)")
]
ServiceAccountName = Annotated[
    str,
    pattern(
        r"[a-z0-9*]([a-z0-9.*-]{0,251}[a-z0-9*])?",
        "a Kubernetes service account name (a `*` allows a pattern)",
    ),
]
_SERVICE_ACCOUNT_NAME = re.compile(r"[a-z0-9*]([a-z0-9.*-]{0,251}[a-z0-9*])?")
_NAMESPACE = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def _service_account_ref(value: str) -> str:
    namespace, colon, name = value.rpartition(":")
    if (
        value.count(":") > 1
        or not _SERVICE_ACCOUNT_NAME.fullmatch(name)
        or (colon and not _NAMESPACE.fullmatch(namespace))
    ):
        raise ValueError(
            "must be a service account name (in podRole.namespace) or `<namespace>:<name>`, "
            "each a lowercase DNS name (a `*` in the name allows a pattern)"
        )
    return value


# A service account as the charts name them: `core-api-sa` (in the section's namespace) or
# `poolside:core-api-sa`.
ServiceAccountRef = Annotated[str, AfterValidator(_service_account_ref)]
VpcId = Annotated[str, pattern(r"vpc-[0-9a-f]{8,17}", "a VPC id such as vpc-0123456789abcdef0")]
SubnetId = Annotated[
    str, pattern(r"subnet-[0-9a-f]{8,17}", "a subnet id such as subnet-0123456789abcdef0")
]
AmiId = Annotated[str, pattern(r"ami-[0-9a-f]{8,17}", "an AMI id such as ami-0123456789abcdef0")]
Cidr = Annotated[str, AfterValidator(_cidr)]
ClusterName = Annotated[
    str, pattern(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}", "an EKS cluster name (1-100 characters)")
]
# A key's id: a UUID, or `mrk-` and 32 hex digits for a multi-Region key.
_KMS_KEY_ID = r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})"
_KMS_KEY_ARN = re.compile(
    r"arn:(?P<partition>aws|aws-us-gov|aws-cn):kms:(?P<region>[a-z]{2}(-gov)?-[a-z]+-\d):"
    rf"(?P<account>\d{{12}}):key/(?P<id>{_KMS_KEY_ID})"
)
_KMS_ALIAS_ARN = re.compile(r"arn:[a-z-]+:kms:[a-z0-9-]*:\d{12}:alias/.+")
KMS_KEY_ARN_FORM = "the ARN of a KMS key (arn:<partition>:kms:<region>:<account>:key/<id>)"


def kms_key_arn_parts(value: str) -> dict[str, str]:
    """The partition, region, account and id of a key ARN (one `KmsKeyArn` accepted)."""
    parts = _KMS_KEY_ARN.fullmatch(value)
    if parts is None:
        raise ValueError(f"must be {KMS_KEY_ARN_FORM}")
    return {name: parts[name] for name in ("partition", "region", "account", "id")}


def _kms_key_arn(value: str) -> str:
    # An IAM statement or a key policy controls a key by the key's own ARN; an alias ARN in a
    # `Resource` controls only the alias operations (AWS KMS Developer Guide, "Using aliases to
    # control access to KMS keys"), so a grant on one would allow nothing on the key.
    if _KMS_ALIAS_ARN.fullmatch(value) or value.startswith("alias/"):
        raise ValueError(
            "must be the key's ARN, not an alias (IAM grants and key policies name the key "
            "itself; `aws kms describe-key --key-id <alias>` shows its "
            "arn:<partition>:kms:<region>:<account>:key/<id>)"
        )
    if re.fullmatch(_KMS_KEY_ID, value):
        raise ValueError(
            "must be the key's full ARN, not its id: "
            "arn:<partition>:kms:<region>:<account>:key/<id>"
        )
    kms_key_arn_parts(value)
    return value


KmsKeyArn = Annotated[str, AfterValidator(_kms_key_arn)]
OidcProviderArn = Annotated[
    str,
    pattern(
        r"arn:aws(-us-gov|-cn)?:iam::\d{12}:oidc-provider/.+",
        "the ARN of an IAM OIDC provider (arn:<partition>:iam::<account>:oidc-provider/<issuer>)",
    ),
]
TableName = Annotated[
    str, pattern(r"[A-Za-z0-9_.-]{3,255}", "a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)")
]
InstanceType = Annotated[
    str, pattern(r"[a-z][a-z0-9-]*\.[a-z0-9]+", "an EC2 instance type such as m6i.large")
]
BedrockModelId = Annotated[
    str,
    pattern(
        r"[a-z0-9-]+\.[A-Za-z0-9.:_-]+",
        "a Bedrock model id such as anthropic.claude-sonnet-4-20250514-v1:0",
    ),
]
# `describe-addon-versions` spells every EKS add-on version `v<major>.<minor>.<patch>-eksbuild.<n>`.
AddonVersion = Annotated[
    str,
    pattern(r"v\d+\.\d+\.\d+-eksbuild\.\d+", "an EKS add-on version such as v1.11.4-eksbuild.2"),
]
AwsRegion = Annotated[str, pattern(r"[a-z]{2}(-gov)?-[a-z]+-\d", "an AWS region such as us-east-1")]


# The Kubernetes versions a cluster this program creates may run: one small table, beside the
# pinned pulumi-eks (requirements.txt: pulumi-eks==4.4.0, whose `Cluster.version` passes the
# value to EKS unchecked). Source: the Amazon EKS Kubernetes release calendar (versions in
# standard or extended support), as pinned for this project on 2026-11-30; the bastion's kubectl
# (components/bastion.py) is 1.34. Review it when pulumi-eks or kubectl is bumped.
KUBERNETES_VERSIONS: tuple[str, ...] = ("1.30", "1.31", "1.32", "1.33", "1.34")
DEFAULT_KUBERNETES_VERSION = "1.34"


def _engine_text(value: Any) -> str:
    """A YAML scalar as it was most likely written (`true`, `1234`, `1.3`)."""
    return json.dumps(value)


def quoted_text(value: Any) -> Any:
    """A text rule: a number or boolean arrived unquoted; say to quote it."""
    if isinstance(value, bool | int | float):
        raise ValueError(
            f'must be text: quote it ("{_engine_text(value)}"), or set it with '
            "`pulumi config set --path --type string`"
        )
    return value


def _unquoted_version(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(
            'must be text in quotes, such as kubernetesVersion: "1.30" (unquoted, YAML reads '
            "1.30 as the number 1.3)"
        )
    return value


def _kubernetes_version(value: str) -> str:
    if value not in KUBERNETES_VERSIONS:
        raise ValueError(
            f"must be a Kubernetes version this program supports: {', '.join(KUBERNETES_VERSIONS)}"
        )
    return value


KubernetesVersion = Annotated[
    str, BeforeValidator(_unquoted_version), AfterValidator(_kubernetes_version)
]
TagValue = Annotated[str, BeforeValidator(quoted_text)]


def empty_is_unset(value: Any) -> Any:
    """Pulumi.yaml declares optional strings with default "": empty means "use the default"."""
    return None if value == "" else value


Prefix = Annotated[str, AfterValidator(_prefix)]
BucketName = Annotated[str, AfterValidator(_bucket_name)]
KmsAlias = Annotated[str, AfterValidator(_kms_alias)]
EcrRepositoryName = Annotated[str, AfterValidator(_ecr_repository)]
Tags = Annotated[dict[str, TagValue], AfterValidator(_tags)]


_LABEL_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_LABEL_KEY = re.compile(
    r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?" + _LABEL_NAME
)
_LABEL_VALUE = re.compile(f"({_LABEL_NAME})?")


def _label_key(value: str) -> str:
    prefix, _, _ = value.rpartition("/")
    if not _LABEL_KEY.fullmatch(value) or len(prefix) > 253:
        raise ValueError("must be a Kubernetes label key such as example.com/role")
    return value


def _labels(labels: dict[str, str]) -> dict[str, str]:
    for key, value in labels.items():
        _label_key(key)
        if not _LABEL_VALUE.fullmatch(value):
            raise ValueError(f"label {key!r} must have a Kubernetes label value (got {value!r})")
    return labels


LabelKey = Annotated[str, AfterValidator(_label_key)]
Labels = Annotated[dict[str, Annotated[str, BeforeValidator(quoted_text)]], AfterValidator(_labels)]
LabelValue = Annotated[
    str, BeforeValidator(quoted_text), pattern(f"({_LABEL_NAME})?", "a Kubernetes label value")
]
