"""Request-level least privilege: what each role the program creates may and may not do.

Every case is one request (action, resource, the context keys IAM would send, and for a trust
policy the calling principal) with the decision IAM must reach, judged by `tests.support.iam_eval`
against the role's ACTUAL documents: those of a whole-program run under the mock engine. A role's
identity policies are found by following its recorded `RolePolicyAttachment`s to the recorded
customer-managed policies, or to the test copies of AWS-managed ones
(`tests.support.iam_requests.AWS_MANAGED_COPIES`); ARNs of the deployment's resources are read from
the recording, never rebuilt with the program's helpers.

The program runs six times: in each partition, with the default names and with the longest the
config allows (a `naming.MAX_PREFIX_LENGTH`-character `deploymentPrefix`, a 32-character
`deploymentName`), each with an inference profile and a model configured where Bedrock exists.
Each run is made once and shared by the module (`deployments`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

import pytest

from naming import MAX_PREFIX_LENGTH
from tests.support.harness import ACCOUNT_ID, REGIONS, run_stack
from tests.support.iam_eval import Decision, Request, evaluate, evaluate_trust
from tests.support.iam_requests import (
    ALL_PARTITIONS,
    BedrockFacts,
    Deployment,
    Document,
    aws_managed_policy_name,
    read_deployment,
)

# ---------------------------------------------------------------------------------------------
# The stacks

LONGEST_PREFIX = ("longest-prefix-" + "x" * MAX_PREFIX_LENGTH)[:MAX_PREFIX_LENGTH]
LONGEST_NAME = ("longest-deployment-name-" + "y" * 32)[:32]
POD_NAMESPACE = "poolside"
POD_SERVICE_ACCOUNTS = ("poolside", "poolside-jobs")
MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
BEDROCK: dict[str, BedrockFacts] = {
    "aws": BedrockFacts(
        model=MODEL,
        profile_id="us.anthropic.claude-sonnet-4-20250514-v1:0",
        profile_model="anthropic.claude-sonnet-4-20250514-v1:0",
        other_regions=("us-east-2", "us-west-9"),
    ),
    "aws-us-gov": BedrockFacts(
        model=MODEL,
        profile_id="us-gov.anthropic.claude-3-5-sonnet-20240620-v1:0",
        profile_model="anthropic.claude-3-5-sonnet-20240620-v1:0",
        other_regions=("us-gov-east-1", "us-gov-west-9"),
    ),
}
BEDROCK_PARTITIONS = frozenset(BEDROCK)  # the harness turns Bedrock off in aws-cn
MARKETPLACE_PARTITIONS = frozenset({"aws", "aws-us-gov"})  # no AWS Marketplace in China


@dataclass(frozen=True)
class StackSpec:
    partition: str
    deployment_name: str
    prefix: str
    """The `deploymentPrefix` the roles must carry (the documented default when not set)."""
    set_prefix: bool

    def keys(self) -> dict[str, Any]:
        keys: dict[str, Any] = {
            "deploymentName": self.deployment_name,
            "ecr": {"repositories": ["api"]},
            "podRole": {"namespace": POD_NAMESPACE, "serviceAccounts": list(POD_SERVICE_ACCOUNTS)},
        }
        if self.set_prefix:
            keys["deploymentPrefix"] = self.prefix
        facts = BEDROCK.get(self.partition)
        if facts is not None:
            keys["bedrock"] = {
                "models": [facts.model],
                "inferenceProfiles": [{"id": facts.profile_id}],
            }
        return keys


STACKS: dict[str, StackSpec] = {}
for _partition in REGIONS:
    STACKS[_partition] = StackSpec(_partition, "acme", "poolside-acme", set_prefix=False)
    STACKS[f"{_partition}-longest-names"] = StackSpec(
        _partition, LONGEST_NAME, LONGEST_PREFIX, set_prefix=True
    )


class Deployments:
    """Each stack of `STACKS`, run once on first use."""

    def __init__(self) -> None:
        self._runs: dict[str, Deployment] = {}

    def __getitem__(self, config_id: str) -> Deployment:
        if config_id not in self._runs:
            spec = STACKS[config_id]
            self._runs[config_id] = read_deployment(
                run_stack(spec.keys(), partition=spec.partition),
                config_id=config_id,
                partition=spec.partition,
                region=REGIONS[spec.partition],
                account=ACCOUNT_ID,
                deployment_name=spec.deployment_name,
                prefix=spec.prefix,
                bedrock=BEDROCK.get(spec.partition),
            )
        return self._runs[config_id]


@pytest.fixture(scope="module")
def deployments() -> Deployments:
    return Deployments()


# ---------------------------------------------------------------------------------------------
# Facts of AWS the requests need (not the program's)

OTHER_ACCOUNT = "210987654321"
STS_AUDIENCE = "sts.amazonaws.com"
DEPLOYMENT_TAG = "poolside:deployment"
LBC_CLUSTER_TAG = "elbv2.k8s.aws/cluster"
# EC2's service principal; China's is its own (IAM refuses `ec2.amazonaws.com` there).
EC2 = {
    "aws": "ec2.amazonaws.com",
    "aws-us-gov": "ec2.amazonaws.com",
    "aws-cn": "ec2.amazonaws.com.cn",
}
OTHER_EC2 = {
    "aws": "ec2.amazonaws.com.cn",
    "aws-us-gov": "ec2.amazonaws.com.cn",
    "aws-cn": EC2["aws"],
}
OTHER_REGION = {"aws": "us-west-2", "aws-us-gov": "us-gov-east-1", "aws-cn": "cn-northwest-1"}

# Role name suffixes (the spec's `[deployment-prefix]-eks-pod-role` and its siblings).
ROLE_SUFFIXES = {
    "pod": "-eks-pod-role",
    "customization": "-bedrock-customization-role",
    "load-balancer-controller": "-aws-load-balancer-controller",
    "vpc-cni": "-eks-vpc-cni-role",
    "inference": "-eks-inference-role",
    "ebs-csi": "-eks-ebs-csi-role",
    "node": "-eks-node-role",
    "cluster": "-eks-cluster-role",
    "bastion": "-bastion-role",
}
# Roles whose identity policies the matrix does not judge, and why.
TRUST_ONLY = {"cluster": "AmazonEKSClusterPolicy is AWS's, and not carried as a test copy"}

# ---------------------------------------------------------------------------------------------
# Cases

Expect = Literal["allow", "implicit-deny", "explicit-deny", "denied"]
ALLOW: Final = "allow"
DENY: Final = "implicit-deny"
EXPLICIT_DENY: Final = "explicit-deny"
DENIED: Final = "denied"
"""Either deny: where a secure policy may reach it by a narrower Allow or by a wider Deny."""

Build = Callable[[Deployment], Request]


@dataclass(frozen=True)
class Case:
    name: str
    expect: Expect
    request: Build
    trust: bool = False
    partitions: frozenset[str] = ALL_PARTITIONS


def identity(
    name: str, expect: Expect, request: Build, partitions: frozenset[str] = ALL_PARTITIONS
) -> Case:
    return Case(name, expect, request, trust=False, partitions=partitions)


def trust(
    name: str, expect: Expect, request: Build, partitions: frozenset[str] = ALL_PARTITIONS
) -> Case:
    return Case(name, expect, request, trust=True, partitions=partitions)


def role_arn(d: Deployment, key: str) -> str:
    """The recorded ARN of one of the deployment's roles."""
    return d.role(d.prefix + ROLE_SUFFIXES[key]).arn


def assume_role(principal: Mapping[str, str], context: Mapping[str, Any] | None = None) -> Request:
    return Request("sts:AssumeRole", context=dict(context or {}), principal=principal)


def web_identity(
    namespace: str, name: str, *, audience: str = STS_AUDIENCE, other_provider: bool = False
) -> Build:
    """A service account's token presented to STS, from this cluster's provider or another's."""

    def build(d: Deployment) -> Request:
        issuer = d.issuer
        provider = d.oidc_provider_arn
        if other_provider:
            issuer = f"{d.issuer.rsplit('/', 1)[0]}/{'0123456789ABCDEF' * 2}"
            assert issuer != d.issuer
            provider = d.iam_arn(f"oidc-provider/{issuer}")
        return Request(
            "sts:AssumeRoleWithWebIdentity",
            context={
                f"{issuer}:sub": f"system:serviceaccount:{namespace}:{name}",
                f"{issuer}:aud": audience,
            },
            principal={"Federated": provider},
        )

    return build


def service(principal: Callable[[Deployment], str]) -> Build:
    return lambda d: assume_role({"Service": principal(d)})


def account_root(d: Deployment) -> Request:
    return assume_role({"AWS": d.iam_arn("root")})


def tags_in_request(value: str, *keys: str) -> dict[str, Any]:
    return {f"aws:RequestTag/{DEPLOYMENT_TAG}": value, "aws:TagKeys": [DEPLOYMENT_TAG, *keys]}


def tagged(value: str) -> dict[str, Any]:
    return {f"aws:ResourceTag/{DEPLOYMENT_TAG}": value}


def pool(d: Deployment, region: str | None = None) -> str:
    region = region or d.region
    return d.arn("cognito-idp", f"userpool/{region}_AbCdEf123", region=region)


def bedrock_job(d: Deployment, *, region: str | None = None, account: str | None = None) -> str:
    return d.arn("bedrock", "model-customization-job/abc123def456", region=region, account=account)


def eni(d: Deployment) -> str:
    return d.arn("ec2", "network-interface/eni-0123456789abcdef0")


def load_balancer(d: Deployment) -> str:
    return d.arn(
        "elasticloadbalancing", "loadbalancer/app/k8s-poolside-0123456789/50dc6c495c0c9188"
    )


def security_group(d: Deployment) -> str:
    return d.arn("ec2", "security-group/sg-0123456789abcdef0")


def through_profile(d: Deployment, model_arn: str, profile_arn: str | None = None) -> Request:
    """InvokeModel of `model_arn` as Bedrock authorises it for a call through a profile."""
    context = {"bedrock:InferenceProfileArn": profile_arn or d.profile_arn}
    return Request("bedrock:InvokeModel", model_arn, context)


def _profile_model_in_other_region(index: int) -> Callable[[Deployment], str]:
    return lambda d: d.foundation_model_arn(
        d.bedrock.profile_model, region=d.bedrock.other_regions[index]
    )


def _invoke_through_profile(model: Callable[[Deployment], str]) -> Build:
    return lambda d: through_profile(d, model(d))


def _invoke_directly(model: Callable[[Deployment], str]) -> Build:
    return lambda d: Request("bedrock:InvokeModel", model(d))


def _profile_model_cases() -> list[Case]:
    """The profile's model in each other region: through the profile, and directly."""
    cases = []
    for index in range(2):  # BedrockFacts.other_regions of either partition
        model = _profile_model_in_other_region(index)
        cases += [
            identity(
                f"bedrock-invoke-profile-model-in-other-region-{index + 1}-through-profile",
                ALLOW,
                _invoke_through_profile(model),
                BEDROCK_PARTITIONS,
            ),
            identity(
                f"bedrock-invoke-profile-model-in-other-region-{index + 1}-directly",
                DENY,
                _invoke_directly(model),
                BEDROCK_PARTITIONS,
            ),
        ]
    return cases


def _pass_role(role: Callable[[Deployment], str], to: str) -> Build:
    return lambda d: Request("iam:PassRole", role(d), {"iam:PassedToService": to})


POD: list[Case] = [
    # -- trust: each configured service account of this cluster, nothing else
    *(
        trust(f"service-account-{sa}", ALLOW, web_identity(POD_NAMESPACE, sa))
        for sa in POD_SERVICE_ACCOUNTS
    ),
    trust("same-name-in-another-namespace", DENY, web_identity("default", "poolside")),
    trust("another-name-in-the-namespace", DENY, web_identity(POD_NAMESPACE, "other")),
    trust("name-extending-a-configured-one", DENY, web_identity(POD_NAMESPACE, "poolside-x")),
    trust("vpc-cni-service-account", DENY, web_identity("kube-system", "aws-node")),
    trust("wrong-audience", DENY, web_identity(POD_NAMESPACE, "poolside", audience="other")),
    trust("another-provider", DENY, web_identity(POD_NAMESPACE, "poolside", other_provider=True)),
    trust("account-root", DENY, account_root),
    # -- S3 Access Policy
    identity("s3-get-object", ALLOW, lambda d: Request("s3:GetObject", d.object_arn("x"))),
    identity("s3-put-object", ALLOW, lambda d: Request("s3:PutObject", d.object_arn("x"))),
    identity("s3-list-bucket", ALLOW, lambda d: Request("s3:ListBucket", d.bucket_arn)),
    identity("s3-delete-object", DENY, lambda d: Request("s3:DeleteObject", d.object_arn("x"))),
    identity(
        "s3-get-object-of-neighbour-bucket",
        DENY,
        lambda d: Request("s3:GetObject", f"{d.bucket_arn}-x/x"),
    ),
    # The model checkpoints are the inference role's to read, not the application's.
    identity(
        "s3-get-model-checkpoint",
        DENY,
        lambda d: Request("s3:GetObject", f"{d.models_bucket_arn}/x"),
    ),
    identity(
        "s3-list-neighbour-bucket", DENY, lambda d: Request("s3:ListBucket", f"{d.bucket_arn}-x")
    ),
    # -- KMS Access Policy
    identity("kms-decrypt", ALLOW, lambda d: Request("kms:Decrypt", d.key_arn)),
    identity("kms-generate-data-key", ALLOW, lambda d: Request("kms:GenerateDataKey", d.key_arn)),
    identity(
        "kms-decrypt-other-key",
        DENY,
        lambda d: Request("kms:Decrypt", d.arn("kms", "key/11111111-2222-3333-4444-555555555555")),
    ),
    # -- AWS Marketplace Metering Policy
    identity(
        "marketplace-meter-usage",
        ALLOW,
        lambda d: Request("aws-marketplace:MeterUsage"),
        MARKETPLACE_PARTITIONS,
    ),
    identity(
        "marketplace-meter-usage-in-china",
        DENY,
        lambda d: Request("aws-marketplace:MeterUsage"),
        ALL_PARTITIONS - MARKETPLACE_PARTITIONS,
    ),
    # -- Bedrock policies
    identity(
        "bedrock-list-foundation-models",
        ALLOW,
        lambda d: Request("bedrock:ListFoundationModels"),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "bedrock-invoke-configured-model",
        ALLOW,
        lambda d: Request("bedrock:InvokeModel", d.foundation_model_arn(d.bedrock.model)),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "bedrock-invoke-configured-model-streaming",
        ALLOW,
        lambda d: Request(
            "bedrock:InvokeModelWithResponseStream", d.foundation_model_arn(d.bedrock.model)
        ),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "bedrock-invoke-configured-model-in-another-region",
        DENY,
        lambda d: Request(
            "bedrock:InvokeModel",
            d.foundation_model_arn(d.bedrock.model, region=d.bedrock.other_regions[0]),
        ),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "bedrock-invoke-unlisted-model",
        DENY,
        lambda d: Request(
            "bedrock:InvokeModel", d.foundation_model_arn("amazon.titan-text-express-v1")
        ),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "bedrock-invoke-inference-profile",
        ALLOW,
        lambda d: through_profile(d, d.profile_arn),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "bedrock-invoke-profile-model-in-stack-region-through-profile",
        ALLOW,
        lambda d: through_profile(d, d.foundation_model_arn(d.bedrock.profile_model)),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "bedrock-invoke-profile-model-in-stack-region-directly",
        DENY,
        lambda d: Request("bedrock:InvokeModel", d.foundation_model_arn(d.bedrock.profile_model)),
        BEDROCK_PARTITIONS,
    ),
    *_profile_model_cases(),
    identity(
        "bedrock-invoke-profile-model-through-an-unlisted-profile",
        DENY,
        lambda d: through_profile(
            d,
            d.foundation_model_arn(d.bedrock.profile_model, region=d.bedrock.other_regions[0]),
            d.arn("bedrock", f"inference-profile/{d.bedrock.profile_id}-other"),
        ),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "bedrock-invoke-unlisted-model-through-the-profile",
        DENY,
        lambda d: through_profile(
            d,
            d.foundation_model_arn(
                "amazon.titan-text-express-v1", region=d.bedrock.other_regions[0]
            ),
        ),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "bedrock-invoke-another-accounts-profile",
        DENY,
        lambda d: Request(
            "bedrock:InvokeModel",
            d.arn("bedrock", f"inference-profile/{d.bedrock.profile_id}", account=OTHER_ACCOUNT),
        ),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "bedrock-invoke-own-provisioned-model",
        ALLOW,
        lambda d: Request("bedrock:InvokeModel", d.arn("bedrock", "provisioned-model/abc123")),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "bedrock-invoke-another-accounts-provisioned-model",
        DENY,
        lambda d: Request(
            "bedrock:InvokeModel",
            d.arn("bedrock", "provisioned-model/abc123", account=OTHER_ACCOUNT),
        ),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "bedrock-create-customization-job",
        ALLOW,
        lambda d: Request(
            "bedrock:CreateModelCustomizationJob", d.arn("bedrock", "custom-model/poolside-x")
        ),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "bedrock-get-own-customization-job",
        ALLOW,
        lambda d: Request("bedrock:GetModelCustomizationJob", bedrock_job(d)),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "bedrock-stop-another-accounts-customization-job",
        DENY,
        lambda d: Request(
            "bedrock:StopModelCustomizationJob", bedrock_job(d, account=OTHER_ACCOUNT)
        ),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "bedrock-invoke-in-china",
        DENY,
        lambda d: Request("bedrock:InvokeModel", d.foundation_model_arn(MODEL)),
        ALL_PARTITIONS - BEDROCK_PARTITIONS,
    ),
    # -- iam:PassRole: the customization role, to Bedrock only
    identity(
        "pass-customization-role-to-bedrock",
        ALLOW,
        _pass_role(lambda d: role_arn(d, "customization"), "bedrock.amazonaws.com"),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "pass-customization-role-to-ec2",
        DENY,
        _pass_role(lambda d: role_arn(d, "customization"), "ec2.amazonaws.com"),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "pass-neighbour-customization-role-to-bedrock",
        DENY,
        _pass_role(
            lambda d: d.iam_arn(f"role/{d.prefix}-x-bedrock-customization-role"),
            "bedrock.amazonaws.com",
        ),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "pass-bastion-role-to-bedrock",
        DENY,
        _pass_role(lambda d: role_arn(d, "bastion"), "bedrock.amazonaws.com"),
    ),
    identity(
        "pass-pod-role-to-ec2", DENY, _pass_role(lambda d: role_arn(d, "pod"), "ec2.amazonaws.com")
    ),
]

CUSTOMIZATION: list[Case] = [
    trust(
        "bedrock-job-of-this-account",
        ALLOW,
        lambda d: assume_role(
            {"Service": "bedrock.amazonaws.com"},
            {"aws:SourceAccount": d.account, "aws:SourceArn": bedrock_job(d)},
        ),
        BEDROCK_PARTITIONS,
    ),
    trust(
        "bedrock-job-of-another-account",
        DENY,
        lambda d: assume_role(
            {"Service": "bedrock.amazonaws.com"},
            {
                "aws:SourceAccount": OTHER_ACCOUNT,
                "aws:SourceArn": bedrock_job(d, account=OTHER_ACCOUNT),
            },
        ),
        BEDROCK_PARTITIONS,
    ),
    trust(
        "bedrock-job-claiming-this-account-from-another",
        DENY,
        lambda d: assume_role(
            {"Service": "bedrock.amazonaws.com"},
            {
                "aws:SourceAccount": d.account,
                "aws:SourceArn": bedrock_job(d, account=OTHER_ACCOUNT),
            },
        ),
        BEDROCK_PARTITIONS,
    ),
    trust(
        "bedrock-job-in-another-region",
        DENY,
        lambda d: assume_role(
            {"Service": "bedrock.amazonaws.com"},
            {
                "aws:SourceAccount": d.account,
                "aws:SourceArn": bedrock_job(d, region=d.bedrock.other_regions[0]),
            },
        ),
        BEDROCK_PARTITIONS,
    ),
    trust(
        "bedrock-batch-inference-job",
        DENY,
        lambda d: assume_role(
            {"Service": "bedrock.amazonaws.com"},
            {
                "aws:SourceAccount": d.account,
                "aws:SourceArn": d.arn("bedrock", "model-invocation-job/abc123"),
            },
        ),
        BEDROCK_PARTITIONS,
    ),
    trust(
        "bedrock-without-source-context",
        DENY,
        service(lambda d: "bedrock.amazonaws.com"),
        BEDROCK_PARTITIONS,
    ),
    trust("ec2", DENY, service(lambda d: EC2[d.partition]), BEDROCK_PARTITIONS),
    trust("account-root", DENY, account_root, BEDROCK_PARTITIONS),
    identity(
        "s3-get-object",
        ALLOW,
        lambda d: Request("s3:GetObject", d.object_arn("train.jsonl")),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "s3-put-object",
        ALLOW,
        lambda d: Request("s3:PutObject", d.object_arn("output/x")),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "s3-list-bucket",
        ALLOW,
        lambda d: Request("s3:ListBucket", d.bucket_arn),
        BEDROCK_PARTITIONS,
    ),
    identity("kms-decrypt", ALLOW, lambda d: Request("kms:Decrypt", d.key_arn), BEDROCK_PARTITIONS),
    identity(
        "kms-generate-data-key",
        ALLOW,
        lambda d: Request("kms:GenerateDataKey", d.key_arn),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "s3-delete-object",
        DENY,
        lambda d: Request("s3:DeleteObject", d.object_arn("x")),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "s3-get-object-of-neighbour-bucket",
        DENY,
        lambda d: Request("s3:GetObject", f"{d.bucket_arn}-x/x"),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "kms-decrypt-other-key",
        DENY,
        lambda d: Request("kms:Decrypt", d.arn("kms", "key/11111111-2222-3333-4444-555555555555")),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "bedrock-invoke-model",
        DENY,
        lambda d: Request("bedrock:InvokeModel", d.foundation_model_arn(d.bedrock.model)),
        BEDROCK_PARTITIONS,
    ),
    identity(
        "pass-itself-to-bedrock",
        DENY,
        _pass_role(lambda d: role_arn(d, "customization"), "bedrock.amazonaws.com"),
        BEDROCK_PARTITIONS,
    ),
]

LOAD_BALANCER_CONTROLLER: list[Case] = [
    trust("controller", ALLOW, web_identity("kube-system", "aws-load-balancer-controller")),
    trust("another-kube-system-account", DENY, web_identity("kube-system", "aws-node")),
    trust(
        "same-name-in-another-namespace",
        DENY,
        web_identity("default", "aws-load-balancer-controller"),
    ),
    trust("pod-service-account", DENY, web_identity(POD_NAMESPACE, "poolside")),
    trust(
        "wrong-audience",
        DENY,
        web_identity("kube-system", "aws-load-balancer-controller", audience="other"),
    ),
    trust(
        "another-provider",
        DENY,
        web_identity("kube-system", "aws-load-balancer-controller", other_provider=True),
    ),
    # -- the vendor policy's tag conditions
    identity(
        "delete-load-balancer-of-a-cluster",
        ALLOW,
        lambda d: Request(
            "elasticloadbalancing:DeleteLoadBalancer",
            load_balancer(d),
            {f"aws:ResourceTag/{LBC_CLUSTER_TAG}": d.cluster_name},
        ),
    ),
    identity(
        "delete-load-balancer-not-of-a-cluster",
        DENY,
        lambda d: Request("elasticloadbalancing:DeleteLoadBalancer", load_balancer(d)),
    ),
    identity(
        "create-load-balancer-with-cluster-tag",
        ALLOW,
        lambda d: Request(
            "elasticloadbalancing:CreateLoadBalancer",
            load_balancer(d),
            {f"aws:RequestTag/{LBC_CLUSTER_TAG}": d.cluster_name, "aws:TagKeys": [LBC_CLUSTER_TAG]},
        ),
    ),
    identity(
        "create-load-balancer-without-cluster-tag",
        DENY,
        lambda d: Request("elasticloadbalancing:CreateLoadBalancer", load_balancer(d)),
    ),
    identity(
        "adopt-load-balancer-by-tagging",
        DENY,
        lambda d: Request(
            "elasticloadbalancing:AddTags",
            load_balancer(d),
            {f"aws:RequestTag/{LBC_CLUSTER_TAG}": d.cluster_name, "aws:TagKeys": [LBC_CLUSTER_TAG]},
        ),
    ),
    identity(
        "delete-security-group-of-a-cluster",
        ALLOW,
        lambda d: Request(
            "ec2:DeleteSecurityGroup",
            security_group(d),
            {f"aws:ResourceTag/{LBC_CLUSTER_TAG}": d.cluster_name},
        ),
    ),
    identity(
        "delete-security-group-not-of-a-cluster",
        DENY,
        lambda d: Request("ec2:DeleteSecurityGroup", security_group(d)),
    ),
    identity(
        "tag-security-group-on-creation",
        ALLOW,
        lambda d: Request(
            "ec2:CreateTags",
            security_group(d),
            {
                "ec2:CreateAction": "CreateSecurityGroup",
                f"aws:RequestTag/{LBC_CLUSTER_TAG}": d.cluster_name,
                "aws:TagKeys": [LBC_CLUSTER_TAG],
            },
        ),
    ),
    identity(
        "adopt-security-group-by-tagging",
        DENY,
        lambda d: Request(
            "ec2:CreateTags",
            security_group(d),
            {f"aws:RequestTag/{LBC_CLUSTER_TAG}": d.cluster_name, "aws:TagKeys": [LBC_CLUSTER_TAG]},
        ),
    ),
    identity(
        "create-elb-service-linked-role",
        ALLOW,
        lambda d: Request(
            "iam:CreateServiceLinkedRole",
            d.iam_arn(
                "role/aws-service-role/elasticloadbalancing.amazonaws.com/"
                "AWSServiceRoleForElasticLoadBalancing"
            ),
            {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"},
        ),
    ),
    identity(
        "create-another-service-linked-role",
        DENY,
        lambda d: Request(
            "iam:CreateServiceLinkedRole",
            d.iam_arn(
                "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
            ),
            {"iam:AWSServiceName": "autoscaling.amazonaws.com"},
        ),
    ),
    identity("pass-pod-role", DENY, _pass_role(lambda d: role_arn(d, "pod"), "ec2.amazonaws.com")),
    identity("s3-get-object", DENY, lambda d: Request("s3:GetObject", d.object_arn("x"))),
]

# The CNI copy of AmazonEKS_CNI_Policy names the `aws` partition: its requests run there only.
CNI_COPY_PARTITIONS = frozenset({"aws"})
# The inference pods (Poolside's EKS IAM page: `poolside-models/inference`): read the model
# checkpoints, nothing else.
INFERENCE: list[Case] = [
    trust("inference", ALLOW, web_identity("poolside-models", "inference")),
    trust("pod-service-account", DENY, web_identity(POD_NAMESPACE, "poolside")),
    trust("inference-in-another-namespace", DENY, web_identity(POD_NAMESPACE, "inference")),
    trust("another-name-in-its-namespace", DENY, web_identity("poolside-models", "default")),
    trust("wrong-audience", DENY, web_identity("poolside-models", "inference", audience="x")),
    trust(
        "another-provider", DENY, web_identity("poolside-models", "inference", other_provider=True)
    ),
    identity("list-models-bucket", ALLOW, lambda d: Request("s3:ListBucket", d.models_bucket_arn)),
    identity(
        "get-checkpoint",
        ALLOW,
        lambda d: Request("s3:GetObject", f"{d.models_bucket_arn}/models/checkpoints/m-1/w.bin"),
    ),
    identity("decrypt-with-the-key", ALLOW, lambda d: Request("kms:Decrypt", d.key_arn)),
    identity("put-checkpoint", DENY, lambda d: Request("s3:PutObject", f"{d.models_bucket_arn}/x")),
    identity(
        "delete-checkpoint",
        DENY,
        lambda d: Request("s3:DeleteObject", f"{d.models_bucket_arn}/x"),
    ),
    identity(
        "get-from-the-data-bucket", DENY, lambda d: Request("s3:GetObject", f"{d.bucket_arn}/x")
    ),
    identity("list-the-data-bucket", DENY, lambda d: Request("s3:ListBucket", d.bucket_arn)),
    identity(
        "get-from-a-neighbours-models-bucket",
        DENY,
        lambda d: Request("s3:GetObject", f"{d.models_bucket_arn}-x/x"),
    ),
    identity("encrypt-with-the-key", DENY, lambda d: Request("kms:GenerateDataKey", d.key_arn)),
    identity(
        "decrypt-with-another-key", DENY, lambda d: Request("kms:Decrypt", f"{d.key_arn[:-4]}ffff")
    ),
    identity("bedrock-invoke", DENY, lambda d: Request("bedrock:InvokeModel")),
]

VPC_CNI: list[Case] = [
    trust("aws-node", ALLOW, web_identity("kube-system", "aws-node")),
    trust("pod-service-account", DENY, web_identity(POD_NAMESPACE, "poolside")),
    trust(
        "load-balancer-controller",
        DENY,
        web_identity("kube-system", "aws-load-balancer-controller"),
    ),
    trust("aws-node-in-another-namespace", DENY, web_identity("default", "aws-node")),
    trust("wrong-audience", DENY, web_identity("kube-system", "aws-node", audience="other")),
    trust("another-provider", DENY, web_identity("kube-system", "aws-node", other_provider=True)),
    identity(
        "create-network-interface",
        ALLOW,
        lambda d: Request("ec2:CreateNetworkInterface"),
        CNI_COPY_PARTITIONS,
    ),
    identity(
        "assign-private-ip-addresses",
        ALLOW,
        lambda d: Request("ec2:AssignPrivateIpAddresses", eni(d)),
        CNI_COPY_PARTITIONS,
    ),
    identity(
        "tag-network-interface",
        ALLOW,
        lambda d: Request("ec2:CreateTags", eni(d)),
        CNI_COPY_PARTITIONS,
    ),
    identity(
        "tag-instance",
        DENY,
        lambda d: Request("ec2:CreateTags", d.arn("ec2", "instance/i-0123456789abcdef0")),
        CNI_COPY_PARTITIONS,
    ),
    identity(
        "run-instances",
        DENY,
        lambda d: Request("ec2:RunInstances", d.arn("ec2", "instance/*")),
        CNI_COPY_PARTITIONS,
    ),
    identity(
        "s3-get-object",
        DENY,
        lambda d: Request("s3:GetObject", d.object_arn("x")),
        CNI_COPY_PARTITIONS,
    ),
]

# The copy of AmazonEBSCSIDriverPolicy names the `aws` partition: identity requests run there.
EBS_COPY_PARTITIONS = frozenset({"aws"})


def _volume(d: Deployment) -> str:
    return d.arn("ec2", "volume/vol-0123456789abcdef0")


def _grant(action: str, *, for_aws_resource: bool, key: Callable[[Deployment], str]) -> Build:
    """A grant request on a key, as EC2 sends it for an encrypted volume (or a caller would)."""
    return lambda d: Request(action, key(d), {"kms:GrantIsForAWSResource": for_aws_resource})


def _deployment_key(d: Deployment) -> str:
    return d.key_arn


def _on_key(action: str) -> Build:
    return lambda d: Request(action, d.key_arn)


EBS_CSI: list[Case] = [
    trust("controller", ALLOW, web_identity("kube-system", "ebs-csi-controller-sa")),
    trust("node-plugin", DENY, web_identity("kube-system", "ebs-csi-node-sa")),
    trust("aws-node", DENY, web_identity("kube-system", "aws-node")),
    trust("same-name-in-another-namespace", DENY, web_identity("default", "ebs-csi-controller-sa")),
    trust("pod-service-account", DENY, web_identity(POD_NAMESPACE, "poolside")),
    trust(
        "wrong-audience",
        DENY,
        web_identity("kube-system", "ebs-csi-controller-sa", audience="other"),
    ),
    trust(
        "another-provider",
        DENY,
        web_identity("kube-system", "ebs-csi-controller-sa", other_provider=True),
    ),
    trust("account-root", DENY, account_root),
    # -- the deployment key, for volumes encrypted with it: grants only for AWS resources
    *(
        identity(
            f"kms-{action.split(':')[1].lower()}-for-aws-resource",
            ALLOW,
            _grant(action, for_aws_resource=True, key=_deployment_key),
            EBS_COPY_PARTITIONS,
        )
        for action in ("kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant")
    ),
    identity(
        "kms-creategrant-not-for-aws-resource",
        DENY,
        _grant("kms:CreateGrant", for_aws_resource=False, key=_deployment_key),
        EBS_COPY_PARTITIONS,
    ),
    identity(
        "kms-creategrant-without-the-condition-key",
        DENY,
        lambda d: Request("kms:CreateGrant", d.key_arn),
        EBS_COPY_PARTITIONS,
    ),
    identity(
        "kms-creategrant-on-another-key",
        DENY,
        _grant("kms:CreateGrant", for_aws_resource=True, key=lambda d: _other_key(d)),
        EBS_COPY_PARTITIONS,
    ),
    *(
        identity(
            f"kms-{action.split(':')[1].lower()}",
            ALLOW,
            _on_key(action),
            EBS_COPY_PARTITIONS,
        )
        for action in (
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:ReEncryptFrom",
            "kms:ReEncryptTo",
            "kms:GenerateDataKeyWithoutPlaintext",
            "kms:DescribeKey",
        )
    ),
    identity(
        "kms-decrypt-other-key",
        DENY,
        lambda d: Request("kms:Decrypt", _other_key(d)),
        EBS_COPY_PARTITIONS,
    ),
    identity(
        "kms-schedule-key-deletion",
        DENY,
        lambda d: Request("kms:ScheduleKeyDeletion", d.key_arn),
        EBS_COPY_PARTITIONS,
    ),
    identity(
        "kms-put-key-policy",
        DENY,
        lambda d: Request("kms:PutKeyPolicy", d.key_arn),
        EBS_COPY_PARTITIONS,
    ),
    # -- AmazonEBSCSIDriverPolicy: volumes the driver tags, attached to instances
    identity(
        "ec2-create-volume-tagged-by-the-driver",
        ALLOW,
        lambda d: Request(
            "ec2:CreateVolume", _volume(d), {"aws:RequestTag/ebs.csi.aws.com/cluster": "true"}
        ),
        EBS_COPY_PARTITIONS,
    ),
    identity(
        "ec2-attach-volume",
        ALLOW,
        lambda d: Request("ec2:AttachVolume", _volume(d)),
        EBS_COPY_PARTITIONS,
    ),
    identity(
        "ec2-delete-volume-the-driver-did-not-create",
        DENY,
        lambda d: Request("ec2:DeleteVolume", _volume(d)),
        EBS_COPY_PARTITIONS,
    ),
    identity(
        "ec2-create-network-interface",
        DENY,
        lambda d: Request("ec2:CreateNetworkInterface"),
        EBS_COPY_PARTITIONS,
    ),
    identity(
        "s3-get-object",
        DENY,
        lambda d: Request("s3:GetObject", d.object_arn("x")),
        EBS_COPY_PARTITIONS,
    ),
    identity(
        "pass-pod-role",
        DENY,
        _pass_role(lambda d: role_arn(d, "pod"), "ec2.amazonaws.com"),
        EBS_COPY_PARTITIONS,
    ),
]

# The node role's two AWS-managed policies are carried in full (at their cited versions), so a
# denial here is a denial by everything attached to the role: the network-interface writes of
# AmazonEKS_CNI_Policy are gone from the nodes (they are the CNI's IRSA role's now).
NODE: list[Case] = [
    trust("ec2-of-the-partition", ALLOW, service(lambda d: EC2[d.partition])),
    trust("ec2-of-another-partition", DENY, service(lambda d: OTHER_EC2[d.partition])),
    trust("eks", DENY, service(lambda d: "eks.amazonaws.com")),
    trust("pod-service-account", DENY, web_identity(POD_NAMESPACE, "poolside")),
    trust("account-root", DENY, account_root),
    identity(
        "eks-describe-cluster", ALLOW, lambda d: Request("eks:DescribeCluster", d.cluster_arn)
    ),
    identity("ecr-pull-image", ALLOW, lambda d: Request("ecr:BatchGetImage", d.repository_arn)),
    identity("ecr-get-authorization-token", ALLOW, lambda d: Request("ecr:GetAuthorizationToken")),
    identity("ec2-create-network-interface", DENY, lambda d: Request("ec2:CreateNetworkInterface")),
    identity(
        "ec2-assign-private-ip-addresses",
        DENY,
        lambda d: Request("ec2:AssignPrivateIpAddresses", eni(d)),
    ),
    identity(
        "ec2-modify-network-interface-attribute",
        DENY,
        lambda d: Request("ec2:ModifyNetworkInterfaceAttribute", eni(d)),
    ),
    identity("ec2-tag-network-interface", DENY, lambda d: Request("ec2:CreateTags", eni(d))),
    identity("s3-get-object", DENY, lambda d: Request("s3:GetObject", d.object_arn("x"))),
    identity("kms-decrypt", DENY, lambda d: Request("kms:Decrypt", d.key_arn)),
]

CLUSTER: list[Case] = [
    trust("eks", ALLOW, service(lambda d: "eks.amazonaws.com")),
    trust("ec2", DENY, service(lambda d: EC2[d.partition])),
    trust("eks-fargate-pods", DENY, service(lambda d: "eks-fargate-pods.amazonaws.com")),
    trust("account-root", DENY, account_root),
]


def _on_repository(action: str) -> Build:
    return lambda d: Request(action, d.repository_arn)


def _other_key(d: Deployment) -> str:
    return d.arn("kms", "key/11111111-2222-3333-4444-555555555555")


def _log_group(d: Deployment, cluster: str, suffix: str = "") -> str:
    return d.arn("logs", f"log-group:/aws/eks/{cluster}/cluster{suffix}")


def _nodegroup(d: Deployment, cluster: str, name: str) -> str:
    return d.arn("eks", f"nodegroup/{cluster}/{name}/0ec4c1d2-1234-5678-9abc-def012345678")


BASTION: list[Case] = [
    trust("ec2-of-the-partition", ALLOW, service(lambda d: EC2[d.partition])),
    trust("ec2-of-another-partition", DENY, service(lambda d: OTHER_EC2[d.partition])),
    trust("eks", DENY, service(lambda d: "eks.amazonaws.com")),
    trust("account-root", DENY, account_root),
    # -- what operating the deployment needs
    identity(
        "cognito-create-pool-with-deployment-tag",
        ALLOW,
        lambda d: Request(
            "cognito-idp:CreateUserPool", "*", tags_in_request(d.deployment_name, "owner")
        ),
    ),
    identity(
        "cognito-tag-on-creation",
        ALLOW,
        lambda d: Request(
            "cognito-idp:TagResource", "*", tags_in_request(d.deployment_name, "owner")
        ),
    ),
    identity(
        "session-manager-open-data-channel",
        ALLOW,
        lambda d: Request("ssmmessages:OpenDataChannel"),
    ),
    identity(
        "session-manager-register-instance",
        ALLOW,
        lambda d: Request(
            "ssm:UpdateInstanceInformation", d.arn("ec2", "instance/i-0123456789abcdef0")
        ),
    ),
    identity(
        "cognito-delete-deployment-pool",
        ALLOW,
        lambda d: Request("cognito-idp:DeleteUserPool", pool(d), tagged(d.deployment_name)),
    ),
    identity(
        "cognito-untag-another-key-of-deployment-pool",
        ALLOW,
        lambda d: Request(
            "cognito-idp:UntagResource",
            pool(d),
            {**tagged(d.deployment_name), "aws:TagKeys": ["owner"]},
        ),
    ),
    # Terraform and Pulumi send only the tags that change: `owner` alone, on a deployment pool.
    identity(
        "cognito-retag-another-key-of-deployment-pool",
        ALLOW,
        lambda d: Request(
            "cognito-idp:TagResource",
            pool(d),
            {
                **tagged(d.deployment_name),
                "aws:RequestTag/owner": "platform",
                "aws:TagKeys": ["owner"],
            },
        ),
    ),
    identity(
        "cognito-update-deployment-pool",
        ALLOW,
        lambda d: Request("cognito-idp:UpdateUserPool", pool(d), tagged(d.deployment_name)),
    ),
    *(
        identity(
            f"ecr-{action.lower()}",
            ALLOW,
            _on_repository(f"ecr:{action}"),
        )
        for action in ("BatchCheckLayerAvailability", "InitiateLayerUpload", "PutImage")
    ),
    identity("ecr-get-authorization-token", ALLOW, lambda d: Request("ecr:GetAuthorizationToken")),
    identity(
        "ssm-get-parameters-by-path",
        ALLOW,
        lambda d: Request("ssm:GetParametersByPath", d.parameter_path_arn),
    ),
    identity(
        "ssm-put-deployment-parameter",
        ALLOW,
        lambda d: Request("ssm:PutParameter", f"{d.parameter_path_arn}/region"),
    ),
    identity("iam-get-pod-role", ALLOW, lambda d: Request("iam:GetRole", role_arn(d, "pod"))),
    identity("iam-get-own-role", ALLOW, lambda d: Request("iam:GetRole", role_arn(d, "bastion"))),
    identity(
        "iam-get-aws-managed-policy",
        ALLOW,
        lambda d: Request(
            "iam:GetPolicy", d.iam_arn("policy/AmazonEKSClusterPolicy", account="aws")
        ),
    ),
    identity(
        "logs-get-cluster-log-events",
        ALLOW,
        lambda d: Request(
            "logs:GetLogEvents",
            _log_group(d, d.cluster_name, ":log-stream:kube-apiserver-0123456789abcdef"),
        ),
    ),
    identity(
        "logs-filter-cluster-log-events",
        ALLOW,
        lambda d: Request("logs:FilterLogEvents", _log_group(d, d.cluster_name)),
    ),
    identity(
        "eks-describe-cluster", ALLOW, lambda d: Request("eks:DescribeCluster", d.cluster_arn)
    ),
    identity(
        "eks-describe-deployment-nodegroup",
        ALLOW,
        lambda d: Request(
            "eks:DescribeNodegroup", _nodegroup(d, d.cluster_name, d.node_group_name)
        ),
    ),
    identity("dynamodb-take-lock", ALLOW, lambda d: Request("dynamodb:PutItem", d.lock_table_arn)),
    identity("s3-put-object", ALLOW, lambda d: Request("s3:PutObject", d.object_arn("state"))),
    identity("kms-decrypt", ALLOW, lambda d: Request("kms:Decrypt", d.key_arn)),
    # -- IAM: adopt a policy by tagging it, then rewrite it
    identity(
        "iam-tag-policy-to-adopt-it",
        DENY,
        lambda d: Request(
            "iam:TagPolicy",
            d.iam_arn(f"policy/{d.prefix}-anything"),
            tags_in_request(d.deployment_name),
        ),
    ),
    identity(
        "iam-create-policy-version-of-adopted-policy",
        DENY,
        lambda d: Request(
            "iam:CreatePolicyVersion",
            d.iam_arn(f"policy/{d.prefix}-anything"),
            tagged(d.deployment_name),
        ),
    ),
    # -- IAM: mint or change a role
    identity(
        "iam-create-backdoor-role",
        DENY,
        lambda d: Request("iam:CreateRole", d.iam_arn(f"role/{d.prefix}-backdoor")),
    ),
    identity(
        "iam-create-backdoor-role-with-deployment-tag",
        DENY,
        lambda d: Request(
            "iam:CreateRole",
            d.iam_arn(f"role/{d.prefix}-backdoor"),
            tags_in_request(d.deployment_name),
        ),
    ),
    identity(
        "iam-create-backdoor-role-with-boundary",
        DENY,
        lambda d: Request(
            "iam:CreateRole",
            d.iam_arn(f"role/{d.prefix}-backdoor"),
            {
                **tags_in_request(d.deployment_name),
                "iam:PermissionsBoundary": d.iam_arn(f"policy/{d.prefix}-bastion-default"),
            },
        ),
    ),
    identity(
        "iam-update-pod-role-trust",
        DENY,
        lambda d: Request("iam:UpdateAssumeRolePolicy", role_arn(d, "pod")),
    ),
    identity(
        "iam-attach-admin-to-pod-role",
        DENY,
        lambda d: Request(
            "iam:AttachRolePolicy",
            role_arn(d, "pod"),
            {"iam:PolicyARN": d.iam_arn("policy/AdministratorAccess", account="aws")},
        ),
    ),
    identity(
        "iam-put-inline-policy-on-own-role",
        DENY,
        lambda d: Request("iam:PutRolePolicy", role_arn(d, "bastion")),
    ),
    identity(
        "iam-pass-own-role-to-ec2",
        DENY,
        _pass_role(lambda d: role_arn(d, "bastion"), "ec2.amazonaws.com"),
    ),
    identity(
        "iam-pass-pod-role-to-ec2",
        DENY,
        _pass_role(lambda d: role_arn(d, "pod"), "ec2.amazonaws.com"),
    ),
    # -- Cognito: other deployments' and other applications' pools
    identity(
        "cognito-create-pool-without-tag",
        DENY,
        lambda d: Request("cognito-idp:CreateUserPool"),
    ),
    identity(
        "cognito-create-pool-with-neighbour-tag",
        DENY,
        lambda d: Request(
            "cognito-idp:CreateUserPool", "*", tags_in_request(f"{d.deployment_name}-x")
        ),
    ),
    identity(
        "cognito-delete-neighbour-pool",
        DENY,
        lambda d: Request("cognito-idp:DeleteUserPool", pool(d), tagged(f"{d.deployment_name}-x")),
    ),
    identity(
        "cognito-delete-untagged-pool",
        DENY,
        lambda d: Request("cognito-idp:DeleteUserPool", pool(d)),
    ),
    identity(
        "cognito-adopt-untagged-pool-by-tagging",
        EXPLICIT_DENY,
        lambda d: Request("cognito-idp:TagResource", pool(d), tags_in_request(d.deployment_name)),
    ),
    identity(
        "cognito-take-neighbour-pool-by-tagging",
        EXPLICIT_DENY,
        lambda d: Request(
            "cognito-idp:TagResource",
            pool(d),
            {**tagged(f"{d.deployment_name}-x"), **tags_in_request(d.deployment_name)},
        ),
    ),
    # A pool in another region of the account is as much another application's or deployment's:
    # the fence must hold there too (by a Deny over every region, or Allows kept to this one).
    identity(
        "cognito-adopt-untagged-pool-in-another-region-by-tagging",
        DENIED,
        lambda d: Request(
            "cognito-idp:TagResource",
            pool(d, OTHER_REGION[d.partition]),
            tags_in_request(d.deployment_name),
        ),
    ),
    identity(
        "cognito-take-neighbour-pool-in-another-region-by-tagging",
        DENIED,
        lambda d: Request(
            "cognito-idp:TagResource",
            pool(d, OTHER_REGION[d.partition]),
            {**tagged(f"{d.deployment_name}-x"), **tags_in_request(d.deployment_name)},
        ),
    ),
    identity(
        "cognito-hand-deployment-pool-to-neighbour",
        DENY,
        lambda d: Request(
            "cognito-idp:TagResource",
            pool(d),
            {**tagged(d.deployment_name), **tags_in_request(f"{d.deployment_name}-x")},
        ),
    ),
    identity(
        "cognito-remove-deployment-tag",
        DENY,
        lambda d: Request(
            "cognito-idp:UntagResource",
            pool(d),
            {**tagged(d.deployment_name), "aws:TagKeys": [DEPLOYMENT_TAG]},
        ),
    ),
    identity(
        "cognito-hand-deployment-pool-to-neighbour-by-update",
        EXPLICIT_DENY,
        lambda d: Request(
            "cognito-idp:UpdateUserPool",
            pool(d),
            {**tagged(d.deployment_name), **tags_in_request(f"{d.deployment_name}-x")},
        ),
    ),
    identity(
        "cognito-tag-untagged-pool-with-another-key",
        EXPLICIT_DENY,
        lambda d: Request(
            "cognito-idp:TagResource",
            pool(d),
            {"aws:RequestTag/owner": "platform", "aws:TagKeys": ["owner"]},
        ),
    ),
    identity(
        "cognito-remove-deployment-tag-among-others",
        DENY,
        lambda d: Request(
            "cognito-idp:UntagResource",
            pool(d),
            {**tagged(d.deployment_name), "aws:TagKeys": ["owner", DEPLOYMENT_TAG]},
        ),
    ),
    # -- reads of other teams' and neighbour deployments' resources
    identity(
        "iam-get-other-teams-role",
        DENY,
        lambda d: Request("iam:GetRole", d.iam_arn("role/other-team-app")),
    ),
    identity(
        "iam-get-neighbour-deployments-role",
        DENY,
        lambda d: Request("iam:GetRole", d.iam_arn(f"role/{d.prefix}-x-eks-pod-role")),
    ),
    identity("iam-list-roles", DENY, lambda d: Request("iam:ListRoles")),
    identity(
        "logs-filter-other-cluster",
        DENY,
        lambda d: Request("logs:FilterLogEvents", _log_group(d, "other-cluster")),
    ),
    identity(
        "logs-filter-neighbour-cluster",
        DENY,
        lambda d: Request("logs:FilterLogEvents", _log_group(d, f"{d.cluster_name}-x")),
    ),
    identity("kms-describe-other-key", DENY, lambda d: Request("kms:DescribeKey", _other_key(d))),
    identity("kms-decrypt-other-key", DENY, lambda d: Request("kms:Decrypt", _other_key(d))),
    identity(
        "eks-describe-nodegroup-named-like-the-cluster-elsewhere",
        DENY,
        lambda d: Request("eks:DescribeNodegroup", _nodegroup(d, "other-cluster", d.cluster_name)),
    ),
    identity(
        "eks-describe-neighbour-cluster",
        DENY,
        lambda d: Request("eks:DescribeCluster", f"{d.cluster_arn}-x"),
    ),
    identity(
        "ssm-put-neighbour-parameter",
        DENY,
        lambda d: Request("ssm:PutParameter", f"{d.parameter_path_arn}-x/region"),
    ),
    # AWS's AmazonSSMManagedInstanceCore would allow these two (GetParameter(s) on `*`): the
    # bastion's own Session Manager policy does not.
    identity(
        "ssm-get-neighbour-parameter",
        DENY,
        lambda d: Request("ssm:GetParameter", f"{d.parameter_path_arn}-x/region"),
    ),
    identity(
        "ssm-get-another-teams-parameter",
        DENY,
        lambda d: Request("ssm:GetParameters", d.arn("ssm", "parameter/other-team/db-password")),
    ),
    identity(
        "cognito-create-tagged-pool-in-another-region",
        DENY,
        lambda d: Request(
            "cognito-idp:CreateUserPool",
            "*",
            {
                **tags_in_request(d.deployment_name),
                "aws:RequestedRegion": OTHER_REGION[d.partition],
            },
        ),
    ),
    identity(
        "ecr-put-image-in-neighbour-namespace",
        DENY,
        lambda d: Request("ecr:PutImage", f"{d.repository_namespace_arn}-x/api"),
    ),
    identity(
        "s3-get-object-of-neighbour-bucket",
        DENY,
        lambda d: Request("s3:GetObject", f"{d.bucket_arn}-x/x"),
    ),
    identity(
        "ec2-run-instances",
        DENY,
        lambda d: Request("ec2:RunInstances", d.arn("ec2", "instance/*")),
    ),
    # -- the deployment's key cannot be destroyed, whatever else is attached later
    identity(
        "kms-schedule-deployment-key-deletion",
        EXPLICIT_DENY,
        lambda d: Request("kms:ScheduleKeyDeletion", d.key_arn),
    ),
    identity(
        "kms-disable-deployment-key",
        EXPLICIT_DENY,
        lambda d: Request("kms:DisableKey", d.key_arn),
    ),
]

MATRIX: dict[str, list[Case]] = {
    "pod": POD,
    "customization": CUSTOMIZATION,
    "load-balancer-controller": LOAD_BALANCER_CONTROLLER,
    "vpc-cni": VPC_CNI,
    "inference": INFERENCE,
    "ebs-csi": EBS_CSI,
    "node": NODE,
    "cluster": CLUSTER,
    "bastion": BASTION,
}

# ---------------------------------------------------------------------------------------------
# Evaluation


def _statements(document: Document) -> list[Any]:
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _matching_statements(
    request: Request, documents: list[tuple[str, Document]], *, is_trust: bool
) -> list[str]:
    """`<policy> <Sid or index> (<Effect>)` of every statement that matches the request."""
    found = []
    for label, document in documents:
        for index, statement in enumerate(_statements(document)):
            single = {"Version": document["Version"], "Statement": [statement]}
            decision = evaluate_trust(request, single) if is_trust else evaluate(request, [single])
            if decision != "implicit-deny":
                found.append(f"{label} {statement.get('Sid', f'#{index}')} ({statement['Effect']})")
    return found


def with_requested_region(d: Deployment, request: Request) -> Request:
    """IAM puts `aws:RequestedRegion` in every request's context: the resource's region, else
    the stack's (where an action on `*` is sent). A case may set it itself."""
    if any(key.lower() == "aws:requestedregion" for key in request.context):
        return request
    parts = request.resource.split(":", 5)
    region = parts[3] if len(parts) == 6 and parts[3] else d.region
    return replace(request, context={**request.context, "aws:RequestedRegion": region})


def judge(d: Deployment, role_key: str, case: Case) -> tuple[Request, Decision, list[str]]:
    """The request, IAM's decision on it for the role, and the statements that matched."""
    role = d.role(d.prefix + ROLE_SUFFIXES[role_key])
    request = case.request(d)
    if not case.trust:
        request = with_requested_region(d, request)
    if case.trust:
        trust_document = [("trust policy", role.trust)]
        decision = evaluate_trust(request, role.trust)
        return request, decision, _matching_statements(request, trust_document, is_trust=True)
    documents = d.identity_policies(role)
    decision = evaluate(request, [doc for _, doc in documents], boundary=d.boundary(role))
    return request, decision, _matching_statements(request, documents, is_trust=False)


def _expected(decision: Decision, expect: Expect) -> bool:
    return decision != "allow" if expect == DENIED else decision == expect


def _matrix_params() -> list[Any]:
    return [
        pytest.param(
            config_id,
            role_key,
            case,
            id=f"{config_id}:{role_key}:{'trust' if case.trust else 'identity'}:{case.name}",
        )
        for config_id, spec in STACKS.items()
        for role_key, cases in MATRIX.items()
        for case in cases
        if spec.partition in case.partitions
    ]


@pytest.mark.parametrize(("config_id", "role_key", "case"), _matrix_params())
def test_request(deployments: Deployments, config_id: str, role_key: str, case: Case) -> None:
    d = deployments[config_id]
    request, decision, statements = judge(d, role_key, case)
    assert _expected(decision, case.expect), (
        f"{d.prefix}{ROLE_SUFFIXES[role_key]}: {request.action} on {request.resource} "
        f"(context {dict(request.context)}, principal {request.principal}) is {decision}, "
        f"expected {case.expect}; matching statements: {statements or 'none'}"
    )


# ---------------------------------------------------------------------------------------------
# The matrix covers every role; the node role lost the CNI policy to the CNI's own role


def test_case_names_are_unique_per_role() -> None:
    for role_key, cases in MATRIX.items():
        names = [(c.trust, c.name) for c in cases]
        assert len(names) == len(set(names)), role_key


@pytest.mark.parametrize("config_id", STACKS)
def test_every_recorded_role_has_request_cases(deployments: Deployments, config_id: str) -> None:
    d = deployments[config_id]
    keys_by_name = {d.prefix + suffix: key for key, suffix in ROLE_SUFFIXES.items()}
    assert set(MATRIX) == set(ROLE_SUFFIXES)
    for name in d.roles:
        assert name in keys_by_name, f"role {name} has no request cases: add it to MATRIX"
        cases = MATRIX[keys_by_name[name]]
        assert any(c.trust and d.partition in c.partitions for c in cases), (
            f"role {name} has no trust cases in {d.partition}"
        )
        if keys_by_name[name] not in TRUST_ONLY:
            assert any(not c.trust for c in cases), f"role {name} has no identity cases"
    for key, cases in MATRIX.items():
        if any(d.partition in c.partitions for c in cases):
            assert d.prefix + ROLE_SUFFIXES[key] in d.roles, f"{key} cases, but no such role"


@pytest.mark.parametrize("config_id", STACKS)
def test_node_role_carries_no_cni_policy(deployments: Deployments, config_id: str) -> None:
    d = deployments[config_id]
    node = d.role(f"{d.prefix}-eks-node-role")
    attached = [aws_managed_policy_name(arn) for arn in node.attached]
    assert "AmazonEKS_CNI_Policy" not in attached
    assert not any(arn.endswith("/AmazonEKS_CNI_Policy") for arn in node.attached)
    cni = d.role(f"{d.prefix}-eks-vpc-cni-role")
    assert cni.attached == (f"arn:{d.partition}:iam::aws:policy/AmazonEKS_CNI_Policy",)
