"""Every rule fires on a violation planted in the dev stack's real plan, and only that rule.

Each case edits the plan `python -m offline_preview --stack dev --format json` prints (what the
engine's resource validation would receive as inputs), runs `python -m policy.check` on it, and
expects exactly the lines written here: the rule, the resource's URN and the message. A line
more (another rule misfiring) or a line less fails the case. The example stacks themselves are
clean (`test_check.py`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from policy.iam_limits import iam_size
from policy.rules import RULES
from tests.support.harness import PROJECT_ROOT
from tests.support.plans import add_state, check_plan, plan, state

POLICY = "aws:iam/policy:Policy"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/D939D1BB5D5E8719E78C1560DEBE3B75"
DATA_BUCKET = "poolside-dev-123456789012"
Plan = dict[str, Any]


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(actions: Any, resources: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def set_policy(p: Plan, name: str, *statements: dict[str, Any]) -> str:
    """Replace the managed policy `name`'s document; returns its URN."""
    found = state(p, POLICY, name)
    found["inputs"]["policy"] = document(*statements)
    return str(found["urn"])


def set_trust(p: Plan, name: str, condition: dict[str, Any], subjects: Any = None) -> str:
    found = state(p, ROLE, name)
    trust = json.loads(found["inputs"]["assumeRolePolicy"])
    trust["Statement"][0]["Condition"] = condition
    found["inputs"]["assumeRolePolicy"] = json.dumps(trust)
    return str(found["urn"])


def inputs(p: Plan, type_: str, name: str) -> tuple[str, dict[str, Any]]:
    found = state(p, type_, name)
    return found["urn"], found["inputs"]


@dataclass(frozen=True)
class Planted:
    rule: str
    what: str
    plant: Callable[[Plan], list[str]]
    """Edits the plan; returns the lines expected, `<rule>  <urn>  <message>` without the rule."""


# -- IAM ------------------------------------------------------------------------------------------


def _service_wildcard(p: Plan) -> list[str]:
    urn = set_policy(
        p,
        "pod-pod-s3-access",
        allow("s3:*", f"arn:aws:s3:::{DATA_BUCKET}/*", Sid="Objects"),
    )
    return [
        f"{urn}  policy Statement[0] (Objects): allows 's3:*', every action of s3; list the "
        "actions the principal needs"
    ]


def _every_action(p: Plan) -> list[str]:
    urn = set_policy(
        p, "pod-pod-s3-access", allow(["s3:GetObject", "*"], f"arn:aws:s3:::{DATA_BUCKET}/*")
    )
    return [
        f"{urn}  policy Statement[0]: allows '*', every action of every service; list the "
        "actions the principal needs"
    ]


def _not_action(p: Plan) -> list[str]:
    urn = set_policy(
        p,
        "pod-pod-s3-access",
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": f"arn:aws:s3:::{DATA_BUCKET}/*"},
    )
    return [
        f"{urn}  policy Statement[0]: Allow with NotAction grants every action it does not "
        "list; list the actions the principal needs"
    ]


def _inline_wildcard(p: Plan) -> list[str]:
    urn, role = inputs(p, ROLE, "inference-role")
    role["inlinePolicies"] = [
        {"name": "debug", "policy": document(allow("s3:*", f"arn:aws:s3:::{DATA_BUCKET}"))}
    ]
    return [
        f"{urn}  inline policy debug Statement[0]: allows 's3:*', every action of s3; list "
        "the actions the principal needs"
    ]


def _star_on_scoped_actions(p: Plan) -> list[str]:
    urn = set_policy(
        p,
        "pod-pod-kms-access",
        allow(["kms:Decrypt", "kms:GenerateDataKey"], "*", Sid="UseDeploymentKey"),
    )
    fix = "which takes resource ARNs: scope it to them, or allowlist it with the reason in policy/iam_allowlist.py"
    return [
        f"{urn}  policy Statement[0] (UseDeploymentKey): Resource '*' on 'kms:Decrypt', {fix}",
        f"{urn}  policy Statement[0] (UseDeploymentKey): Resource '*' on 'kms:GenerateDataKey', {fix}",
    ]


def _star_on_wildcard_action(p: Plan) -> list[str]:
    # ecr:Describe* expands to DescribeRegistry (no resource) and repository-scoped actions.
    urn = set_policy(p, "pod-pod-kms-access", allow("ecr:DescribeI*", ["*"]))
    return [
        f"{urn}  policy Statement[0]: Resource '*' on 'ecr:DescribeI*' (matching "
        "ecr:DescribeImageReplicationStatus, ecr:DescribeImageScanFindings, "
        "ecr:DescribeImageSigningStatus, ecr:DescribeImages), which takes resource ARNs: scope "
        "it to them, or allowlist it with the reason in policy/iam_allowlist.py"
    ]


def _star_on_unknown_action(p: Plan) -> list[str]:
    urn = set_policy(p, "pod-pod-kms-access", allow("kms:Decrypted", "*"))
    return [
        f"{urn}  policy Statement[0]: Resource '*' on unknown action 'kms:Decrypted' (did you "
        "mean 'kms:Decrypt'?): whether it takes a resource ARN cannot be told"
    ]


def _not_resource(p: Plan) -> list[str]:
    urn = set_policy(
        p,
        "pod-pod-kms-access",
        {"Effect": "Allow", "Action": "kms:Decrypt", "NotResource": "arn:aws:kms:*:*:alias/*"},
    )
    return [
        f"{urn}  policy Statement[0]: Allow with NotResource reaches every resource it does "
        "not list; list the resources"
    ]


def _no_audience(p: Plan) -> list[str]:
    urn = set_trust(
        p,
        "pod-role",
        {"StringEquals": {f"{ISSUER}:sub": "system:serviceaccount:poolside:core-api-sa"}},
    )
    return [
        f"{urn}  trust Statement[0] (ServiceAccountsOfThisCluster): the trust of {ISSUER} must "
        f"condition `{ISSUER}:aud` with StringEquals 'sts.amazonaws.com' (found none)"
    ]


def _audience_pattern(p: Plan) -> list[str]:
    urn = set_trust(
        p,
        "pod-role",
        {
            "StringLike": {f"{ISSUER}:aud": "sts.*"},
            "StringEquals": {f"{ISSUER}:sub": "system:serviceaccount:poolside:core-api-sa"},
        },
    )
    return [
        f"{urn}  trust Statement[0] (ServiceAccountsOfThisCluster): the trust of {ISSUER} must "
        f"condition `{ISSUER}:aud` with StringEquals 'sts.amazonaws.com' (found {{\"StringLike\": "
        '"sts.*"})'
    ]


def _no_subject(p: Plan) -> list[str]:
    urn = set_trust(p, "pod-role", {"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"}})
    return [
        f"{urn}  trust Statement[0] (ServiceAccountsOfThisCluster): the trust of {ISSUER} does "
        f"not condition `{ISSUER}:sub` with StringEquals (or StringLike): any service account "
        "of the cluster could assume the role"
    ]


def _subject_like_without_pattern(p: Plan) -> list[str]:
    urn = set_trust(
        p,
        "pod-role",
        {
            "StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"},
            "StringLike": {f"{ISSUER}:sub": "system:serviceaccount:poolside:core-api-sa"},
        },
    )
    return [
        f"{urn}  trust Statement[0] (ServiceAccountsOfThisCluster): StringLike on "
        f'`{ISSUER}:sub` for ["system:serviceaccount:poolside:core-api-sa"], which has no `*` '
        "or `?`: use StringEquals"
    ]


def _subject_other_operator(p: Plan) -> list[str]:
    urn = set_trust(
        p,
        "vpc-cni-role",
        {
            "StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"},
            "StringNotEquals": {f"{ISSUER}:sub": "system:serviceaccount:default:default"},
        },
    )
    return [
        f"{urn}  trust Statement[0] (ServiceAccountsOfThisCluster): the trust of {ISSUER} does "
        f"not condition `{ISSUER}:sub` with StringEquals (or StringLike): any service account "
        "of the cluster could assume the role"
    ]


def _large_policy(p: Plan) -> list[str]:
    statements = [
        allow(
            "s3:GetObject", f"arn:aws:s3:::{DATA_BUCKET}/prefix-{index:04d}/*", Sid=f"Read{index}"
        )
        for index in range(70)
    ]
    urn = set_policy(p, "pod-pod-s3-access", *statements)
    size = len(document(*statements).replace(" ", ""))
    assert size > 6144
    return [
        f"{urn}  the policy is {size:,} characters without whitespace; IAM allows 6,144 per "
        "managed policy: split it"
    ]


def _large_trust(p: Plan) -> list[str]:
    subjects = [f"system:serviceaccount:poolside:service-account-{i:03d}" for i in range(40)]
    urn = set_trust(
        p,
        "pod-role",
        {"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com", f"{ISSUER}:sub": subjects}},
    )
    size = iam_size(state(p, ROLE, "pod-role")["inputs"]["assumeRolePolicy"])
    assert size > 2048
    return [
        f"{urn}  the trust policy is {size:,} characters without whitespace; IAM allows 2,048 "
        "(the default quota)"
    ]


def _large_inline_policies(p: Plan) -> list[str]:
    role_urn, role = inputs(p, ROLE, "pod-role")
    sizes = []
    for part in range(2):
        text = document(
            *(
                allow("s3:GetObject", f"arn:aws:s3:::{DATA_BUCKET}/p{part}-{index:04d}/*")
                for index in range(55)
            )
        )
        sizes.append(len(text.replace(" ", "")))
        add_state(
            p,
            "aws:iam/rolePolicy:RolePolicy",
            f"pod-inline-{part}",
            {"role": role["name"], "name": f"inline-{part}", "policy": text},
            {"role": [role_urn]},
        )
    total = sum(sizes)
    assert max(sizes) <= 6144 and total > 10240  # each alone would be a valid managed policy
    return [
        f"{role_urn}  its 2 inline policies are {total:,} characters without whitespace; IAM "
        "allows 10,240 per role: move some to managed policies"
    ]


def _many_managed_policies(p: Plan) -> list[str]:
    role_urn, role = inputs(p, ROLE, "bastion-iam-role")
    # The bastion has 8; three more by name only (no property dependency), as a literal would.
    for name in ("AmazonS3ReadOnlyAccess", "AmazonEC2ReadOnlyAccess", "ReadOnlyAccess"):
        add_state(
            p,
            ATTACHMENT,
            f"bastion-{name}",
            {"role": role["name"], "policyArn": f"arn:aws:iam::aws:policy/{name}"},
        )
    return [
        f"{role_urn}  11 managed policies are attached; IAM allows 10 per role (the default "
        "quota): merge some"
    ]


# -- S3, KMS, ECR ---------------------------------------------------------------------------------


def _bucket_urn(p: Plan, name: str = "data-bucket") -> str:
    return str(state(p, "aws:s3/bucket:Bucket", name)["urn"])


def _steps_without(p: Plan, name: str) -> None:
    p["steps"] = [s for s in p["steps"] if not s["urn"].endswith(f"::{name}")]


def _no_encryption(p: Plan) -> list[str]:
    _steps_without(p, "data-encryption")
    return [
        f"{_bucket_urn(p)}  no BucketServerSideEncryptionConfiguration refers to the bucket: "
        "encrypt it with SSE-KMS (aws:kms) and the deployment's key"
    ]


def _aes_encryption(p: Plan) -> list[str]:
    _, encryption = inputs(
        p,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "models-encryption",
    )
    encryption["rules"][0]["applyServerSideEncryptionByDefault"] = {"sseAlgorithm": "AES256"}
    return [
        f"{_bucket_urn(p, 'models-bucket')}  models-encryption rules[0] encrypts with 'AES256': "
        "use aws:kms with the deployment's key"
    ]


def _aws_managed_key(p: Plan) -> list[str]:
    _, encryption = inputs(
        p,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "data-encryption",
    )
    del encryption["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
    return [
        f"{_bucket_urn(p)}  data-encryption rules[0] names no kmsMasterKeyId: the AWS-managed "
        "aws/s3 key's policy cannot be scoped; use the deployment's key"
    ]


def _suspended_versioning(p: Plan) -> list[str]:
    _, versioning = inputs(p, "aws:s3/bucketVersioning:BucketVersioning", "data-versioning")
    versioning["versioningConfiguration"]["status"] = "Suspended"
    return [f"{_bucket_urn(p)}  data-versioning sets versioning 'Suspended': it must be 'Enabled'"]


def _no_versioning(p: Plan) -> list[str]:
    _steps_without(p, "models-versioning")
    return [
        f"{_bucket_urn(p, 'models-bucket')}  no BucketVersioning refers to the bucket: enable "
        "versioning"
    ]


def _versioning_of_another_bucket(p: Plan) -> list[str]:
    # The models bucket's versioning, pointed at the data bucket by name: models has none.
    _, versioning = inputs(p, "aws:s3/bucketVersioning:BucketVersioning", "models-versioning")
    versioning["bucket"] = DATA_BUCKET
    state(p, "aws:s3/bucketVersioning:BucketVersioning", "models-versioning")[
        "propertyDependencies"
    ] = {}
    return [
        f"{_bucket_urn(p, 'models-bucket')}  no BucketVersioning refers to the bucket: enable "
        "versioning"
    ]


def _public_access(p: Plan) -> list[str]:
    _, block = inputs(
        p, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "data-public-access-block"
    )
    block["ignorePublicAcls"] = False
    del block["restrictPublicBuckets"]
    return [
        f"{_bucket_urn(p)}  data-public-access-block leaves ignorePublicAcls, "
        "restrictPublicBuckets off: set all four"
    ]


def _no_public_access_block(p: Plan) -> list[str]:
    _steps_without(p, "data-public-access-block")
    return [
        f"{_bucket_urn(p)}  no BucketPublicAccessBlock refers to the bucket: block all four "
        "kinds of access"
    ]


TLS_MESSAGE = (
    "no bucket policy denies requests without TLS: Deny s3:* to everyone when "
    "aws:SecureTransport is false, on the bucket and its objects"
)


def _tls_condition_inverted(p: Plan) -> list[str]:
    _, bucket_policy = inputs(p, "aws:s3/bucketPolicy:BucketPolicy", "data-policy")
    bucket_policy["policy"] = bucket_policy["policy"].replace('"false"', '"true"')
    return [f"{_bucket_urn(p)}  {TLS_MESSAGE}"]


def _tls_objects_only(p: Plan) -> list[str]:
    _, bucket_policy = inputs(p, "aws:s3/bucketPolicy:BucketPolicy", "models-policy")
    policy = json.loads(bucket_policy["policy"])
    policy["Statement"][0]["Resource"] = [
        "arn:aws:s3:::poolside-dev-models-123456789012/checkpoints/*"
    ]
    bucket_policy["policy"] = json.dumps(policy)
    return [f"{_bucket_urn(p, 'models-bucket')}  {TLS_MESSAGE}"]


def _no_bucket_policy(p: Plan) -> list[str]:
    _steps_without(p, "data-policy")
    return [f"{_bucket_urn(p)}  {TLS_MESSAGE}"]


def _no_rotation(p: Plan) -> list[str]:
    urn, key = inputs(p, "aws:kms/key:Key", "kms-key")
    key["enableKeyRotation"] = False
    return [f"{urn}  enableKeyRotation is not true: a symmetric key must rotate its key material"]


def _no_scan_on_push(p: Plan) -> list[str]:
    urn, repository = inputs(p, "aws:ecr/repository:Repository", "ecr-web")
    repository["imageScanningConfiguration"] = {"scanOnPush": False}
    return [f"{urn}  images are not scanned on push: set imageScanningConfiguration.scanOnPush"]


def _aes_repository(p: Plan) -> list[str]:
    urn, repository = inputs(p, "aws:ecr/repository:Repository", "ecr-api")
    del repository["encryptionConfigurations"]
    return [
        f"{urn}  encryptionType is AES256 (the default): encrypt with KMS and the deployment's key"
    ]


def _repository_aws_managed_key(p: Plan) -> list[str]:
    urn, repository = inputs(p, "aws:ecr/repository:Repository", "ecr-inference")
    repository["encryptionConfigurations"] = [{"encryptionType": "KMS"}]
    return [f"{urn}  encryption names no kmsKey: use the deployment's key, not the AWS-managed one"]


# -- EC2 ------------------------------------------------------------------------------------------

INSTANCE = "aws:ec2/instance:Instance"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"


def _imdsv1_instance(p: Plan) -> list[str]:
    urn, instance = inputs(p, INSTANCE, "bastion-instance")
    instance["metadataOptions"]["httpTokens"] = "optional"
    return [
        f"{urn}  metadataOptions.httpTokens is 'optional': set 'required' (IMDSv2 only; IMDSv1 "
        "answers any request that reaches it)"
    ]


def _imds_unset_template(p: Plan) -> list[str]:
    urn, template = inputs(p, TEMPLATE, "cluster-gpu-launch-template")
    del template["metadataOptions"]
    return [
        f"{urn}  metadataOptions.httpTokens is None: set 'required' (IMDSv2 only; IMDSv1 "
        "answers any request that reaches it)"
    ]


def _public_instance(p: Plan) -> list[str]:
    urn, instance = inputs(p, INSTANCE, "bastion-instance")
    del instance["associatePublicIpAddress"]
    return [
        f"{urn}  associatePublicIpAddress is not false: set it, or the subnet's default may "
        "give the instance a public address"
    ]


def _public_template(p: Plan) -> list[str]:
    urn, template = inputs(p, TEMPLATE, "cluster-system-launch-template")
    template["networkInterfaces"] = [
        {"associatePublicIpAddress": "false"},
        {"associatePublicIpAddress": "true"},
    ]
    return [f"{urn}  networkInterfaces[1] asks for a public address"]


def _unencrypted_root(p: Plan) -> list[str]:
    urn, instance = inputs(p, INSTANCE, "bastion-instance")
    instance["rootBlockDevice"]["encrypted"] = False
    instance["ebsBlockDevices"] = [{"deviceName": "/dev/sdf", "volumeSize": 10}]
    return [
        f"{urn}  rootBlockDevice.encrypted is not true: encrypt the root volume",
        f"{urn}  ebsBlockDevices[0].encrypted is not true",
    ]


def _unencrypted_template(p: Plan) -> list[str]:
    urn, template = inputs(p, TEMPLATE, "cluster-gpu-launch-template")
    template["blockDeviceMappings"][0]["ebs"]["encrypted"] = "false"
    return [f"{urn}  blockDeviceMappings[0].ebs.encrypted is not true"]


def _template_without_volumes(p: Plan) -> list[str]:
    urn, template = inputs(p, TEMPLATE, "cluster-system-launch-template")
    del template["blockDeviceMappings"]
    return [
        f"{urn}  no blockDeviceMappings: the root volume would be the AMI's, encrypted only if "
        "the account encrypts by default; map it with ebs.encrypted"
    ]


FIX = "name the sources (a security group, or the networks that need it)"


def _world_ingress_group(p: Plan) -> list[str]:
    urn, group = inputs(p, "aws:ec2/securityGroup:SecurityGroup", "bastion-security-group")
    group["ingress"] = [
        {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["10.0.0.0/8"]},
        {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]},
    ]
    # Egress to everywhere is the bastion's design (HTTPS to AWS APIs): not this rule's.
    assert group["egress"][0]["cidrBlocks"] == ["0.0.0.0/0"]
    return [f"{urn}  ingress[1] admits 0.0.0.0/0: {FIX}"]


def _world_ingress_ipv6_rule(p: Plan) -> list[str]:
    urn, rule = inputs(
        p, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "bastion-cluster-api"
    )
    del rule["referencedSecurityGroupId"]
    rule["cidrIpv6"] = "::/0"
    return [f"{urn}  the ingress rule admits ::/0: {FIX}"]


def _world_ingress_group_rule(p: Plan) -> list[str]:
    ingress = add_state(
        p,
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "https-from-anywhere",
        {
            "type": "ingress",
            "protocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "securityGroupId": "sg-17c0d60690f3efc77",
            "cidrBlocks": ["10.0.0.0/16"],
            "ipv6CidrBlocks": ["0::0/0"],
        },
    )
    add_state(  # the same to everywhere as egress is not ingress
        p,
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "https-to-anywhere",
        {
            "type": "egress",
            "protocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "securityGroupId": "sg-17c0d60690f3efc77",
            "cidrBlocks": ["0.0.0.0/0"],
        },
    )
    return [f"{ingress}  the ingress rule admits 0::0/0: {FIX}"]


PLANTED = [
    Planted("iam-no-wildcard-actions", "a service's every action", _service_wildcard),
    Planted("iam-no-wildcard-actions", "every action", _every_action),
    Planted("iam-no-wildcard-actions", "NotAction in an Allow", _not_action),
    Planted("iam-no-wildcard-actions", "in a role's inline policy", _inline_wildcard),
    Planted("iam-star-resource-scoped", "actions that take a key ARN", _star_on_scoped_actions),
    Planted("iam-star-resource-scoped", "a wildcard action", _star_on_wildcard_action),
    Planted("iam-star-resource-scoped", "an action IAM does not know", _star_on_unknown_action),
    Planted("iam-star-resource-scoped", "NotResource in an Allow", _not_resource),
    Planted("iam-irsa-trust-conditions", "no audience", _no_audience),
    Planted("iam-irsa-trust-conditions", "an audience pattern", _audience_pattern),
    Planted("iam-irsa-trust-conditions", "no subject", _no_subject),
    Planted("iam-irsa-trust-conditions", "StringLike, no wildcard", _subject_like_without_pattern),
    Planted("iam-irsa-trust-conditions", "a negative subject", _subject_other_operator),
    Planted("iam-managed-policy-size", "70 statements", _large_policy),
    Planted("iam-trust-policy-size", "40 service accounts", _large_trust),
    Planted("iam-role-inline-policies-size", "two large inline policies", _large_inline_policies),
    Planted("iam-role-managed-policy-count", "11 attached", _many_managed_policies),
    Planted("s3-bucket-kms-encryption", "no encryption", _no_encryption),
    Planted("s3-bucket-kms-encryption", "AES256", _aes_encryption),
    Planted("s3-bucket-kms-encryption", "the AWS-managed key", _aws_managed_key),
    Planted("s3-bucket-versioning", "suspended", _suspended_versioning),
    Planted("s3-bucket-versioning", "none", _no_versioning),
    Planted("s3-bucket-versioning", "another bucket's", _versioning_of_another_bucket),
    Planted("s3-bucket-public-access-block", "two flags off", _public_access),
    Planted("s3-bucket-public-access-block", "none", _no_public_access_block),
    Planted("s3-bucket-tls-only", "TLS required to be off", _tls_condition_inverted),
    Planted("s3-bucket-tls-only", "some objects only", _tls_objects_only),
    Planted("s3-bucket-tls-only", "no bucket policy", _no_bucket_policy),
    Planted("kms-key-rotation", "rotation off", _no_rotation),
    Planted("ecr-scan-on-push", "scan off", _no_scan_on_push),
    Planted("ecr-kms-encryption", "AES256", _aes_repository),
    Planted("ecr-kms-encryption", "the AWS-managed key", _repository_aws_managed_key),
    Planted("ec2-imdsv2-required", "an instance with IMDSv1", _imdsv1_instance),
    Planted("ec2-imdsv2-required", "a template with no options", _imds_unset_template),
    Planted("ec2-no-public-ip", "an instance left to the subnet", _public_instance),
    Planted("ec2-no-public-ip", "a template's interface", _public_template),
    Planted("ec2-encrypted-volumes", "an instance's volumes", _unencrypted_root),
    Planted("ec2-encrypted-volumes", "a template's volume", _unencrypted_template),
    Planted("ec2-encrypted-volumes", "a template without volumes", _template_without_volumes),
    Planted("ec2-no-world-ingress", "a group's ingress block", _world_ingress_group),
    Planted("ec2-no-world-ingress", "a VPC ingress rule, IPv6", _world_ingress_ipv6_rule),
    Planted("ec2-no-world-ingress", "a group rule", _world_ingress_group_rule),
]


@pytest.mark.parametrize("planted", PLANTED, ids=lambda c: f"{c.rule}: {c.what}")
def test_the_rule_fires_on_its_planted_violation_alone(planted: Planted) -> None:
    p = plan("dev")
    expected = sorted(f"{planted.rule}  {line}" for line in planted.plant(p))
    check = check_plan(p)
    assert check.lines == expected
    assert check.exit_code == 1


def test_every_rule_has_a_planted_violation() -> None:
    assert {c.rule for c in PLANTED} == {rule.name for rule in RULES}


def test_all_planted_violations_at_once_are_each_reported() -> None:
    """Planted together (where they touch different resources), none hides another."""
    p = plan("dev")
    together = [
        _service_wildcard,
        _star_on_scoped_actions,
        _no_subject,
        _many_managed_policies,
        _no_encryption,
        _suspended_versioning,
        _public_access,
        _no_rotation,
        _no_scan_on_push,
        _aes_repository,
        _imdsv1_instance,
        _unencrypted_template,
        _world_ingress_group,
    ]
    expected = []
    for plant in together:
        [rule] = [c.rule for c in PLANTED if c.plant is plant]
        expected += [f"{rule}  {line}" for line in plant(p)]
    check = check_plan(p)
    assert check.lines == sorted(expected)
    assert check.exit_code == 1


# -- What is allowed ------------------------------------------------------------------------------


def _clean(p: Plan) -> None:
    check = check_plan(p)
    assert (check.exit_code, check.lines) == (0, [])


def test_a_subject_pattern_may_use_string_like() -> None:
    p = plan("dev")
    set_trust(
        p,
        "pod-role",
        {
            "StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"},
            "StringLike": {f"{ISSUER}:sub": "system:serviceaccount:poolside:*"},
        },
    )
    _clean(p)


def test_an_allowlisted_action_may_take_star_and_so_may_one_that_takes_no_resource() -> None:
    p = plan("dev")
    set_policy(
        p,
        "pod-pod-kms-access",
        allow(["ec2:CreateSecurityGroup", "ec2:DescribeInstances", "kms:ListKeys"], "*"),
    )
    _clean(p)


def test_deny_statements_may_name_every_action() -> None:
    p = plan("dev")
    set_policy(
        p,
        "pod-pod-kms-access",
        allow("kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/*"),
        {"Effect": "Deny", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "NotAction": "kms:Decrypt", "NotResource": "arn:aws:kms:*:*:key/*"},
    )
    _clean(p)


def test_a_bucket_setting_tied_by_name_alone_counts() -> None:
    """A literal bucket name (no property dependency) ties the setting to its bucket."""
    p = plan("dev")
    for name in ("data-encryption", "data-versioning", "data-public-access-block", "data-policy"):
        [found] = [s for s in p["steps"] if s["urn"].endswith(f"::{name}")]
        found["newState"]["propertyDependencies"] = {}
    _clean(p)


def test_an_asymmetric_key_is_not_asked_to_rotate() -> None:
    p = plan("dev")
    _, key = inputs(p, "aws:kms/key:Key", "kms-key")
    key.update(customerMasterKeySpec="RSA_2048", keyUsage="SIGN_VERIFY", enableKeyRotation=False)
    _clean(p)


def test_an_instance_without_a_metadata_service_needs_no_imdsv2() -> None:
    p = plan("dev")
    _, instance = inputs(p, INSTANCE, "bastion-instance")
    instance["metadataOptions"] = {"httpEndpoint": "disabled"}
    _clean(p)


def test_a_role_listing_its_attached_policies_again_counts_each_once() -> None:
    """Once a role exists, its outputs list the policies its attachments and RolePolicy
    resources gave it (`managedPolicyArns`, `inlinePolicies`): the stack rules, which the engine
    runs on outputs, count each policy once."""
    p = plan("dev")
    role_urn, role = inputs(p, ROLE, "bastion-iam-role")
    attached = [
        s["inputs"]["policyArn"]
        for s in p["steps"]
        for s in [s["newState"]]
        if s["type"] == ATTACHMENT and s["inputs"]["role"] == role["name"]
    ]
    assert len(attached) == 8
    role["managedPolicyArns"] = attached
    text = document(
        *(allow("s3:GetObject", f"arn:aws:s3:::{DATA_BUCKET}/p-{i:04d}/*") for i in range(55))
    )
    assert 5120 < len(text.replace(" ", "")) <= 6144  # twice would pass 10,240
    add_state(
        p,
        "aws:iam/rolePolicy:RolePolicy",
        "bastion-inline",
        {"role": role["name"], "name": "inline", "policy": text},
        {"role": [role_urn]},
    )
    role["inlinePolicies"] = [{"name": "inline", "policy": text}]
    _clean(p)


def test_every_rule_is_documented_once() -> None:
    """docs/policy-pack.md's table has a row per rule, and no row for a rule that is gone."""
    text = (PROJECT_ROOT / "docs" / "policy-pack.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([a-z0-9-]+)` \|", text, flags=re.MULTILINE)
    assert rows == [rule.name for rule in RULES]
