"""The bastion host: its six policies, its role, instance, network, cluster access,
state-lock table and the deployment's SSM parameters, in every partition, under the mock engine."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pulumi
import pytest

from aws_environment import is_arm64_instance_type, service_principal
from components.bastion import (
    HELM_SHA256,
    HELM_VERSION,
    KUBECTL_SHA256,
    KUBECTL_VERSION,
    Bastion,
    BastionArgs,
)
from components.deployment_parameters import DeploymentParameters, DeploymentParametersArgs
from components.ecr_repositories import EcrRepositories, EcrRepositoriesArgs
from naming import Names
from offline_preview.engine import RecordedResource, Recording
from tests.support.harness import (
    ACCOUNT_ID,
    CLUSTER,
    PARTITIONS,
    REGIONS,
    build_key_and_bucket,
    environment,
    policy,
    run_stack,
)
from tests.support.iam_allowlist import STAR_ALLOWLIST
from tests.support.iam_lint import actions_requiring_star, lint_policy

PREFIX = "poolside-acme"
TAGS = {"owner": "platform", "poolside:deployment": "acme"}
SUBNET = "subnet-0000000000000000a"
CLUSTER_SECURITY_GROUP = "sg-0c1u5t3r0000000aa"
VPC = "vpc-0123456789abcdef0"
MANAGED_POLICY_MAX = 6144
TRUST_POLICY_MAX = 2048
POLICIES_PER_ROLE_MAX = 10
# The spec's six bastion policies (the default one in two parts) and the Session Manager one.
PURPOSES = (
    "ecr-access",
    "cognito-management",
    "ssm-parameters",
    "acm-read",
    "terraform-state",
    "default",
    "default-iam-read",
    "session-manager",
)

ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
INSTANCE = "aws:ec2/instance:Instance"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
TABLE = "aws:dynamodb/table:Table"
PARAMETER = "aws:ssm/parameter:Parameter"
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"


def build(
    partition: str,
    *,
    prefix: str = PREFIX,
    deployment_name: str = "acme",
    cluster_name: pulumi.Input[str] = PREFIX,
    bucket_name: str | None = None,
    parameters: dict[str, str] | None = None,
    **bastion: Any,
) -> None:
    """The key, bucket and repositories the bastion is scoped to, then the bastion itself."""
    env = environment(partition)
    tags = {**TAGS, "poolside:deployment": deployment_name}
    key, bucket = build_key_and_bucket(
        env, prefix=prefix, bucket_name=bucket_name or f"{prefix}-{ACCOUNT_ID}", tags=tags
    )
    repositories = EcrRepositories(
        "ecr",
        EcrRepositoriesArgs(
            env=env,
            namespace=f"poolside-{deployment_name}",
            repositories=["api"],
            kms_key_arn=key.arn,
            image_tag_mutability="IMMUTABLE",
            scan_on_push=True,
            untagged_image_expiration_days=14,
            tags=tags,
        ),
    )
    args = BastionArgs(
        env=env,
        names=Names(prefix, deployment_name),
        key=key,
        bucket=bucket,
        repositories=repositories,
        cluster_name=cluster_name,
        cluster_security_group_id=CLUSTER_SECURITY_GROUP,
        subnet_id=SUBNET,
        vpc_id=VPC,
        iam_role_arns=other_iam(partition, prefix)["roles"],
        iam_policy_arns=other_iam(partition, prefix)["policies"],
        oidc_provider_arn=other_iam(partition, prefix)["oidc"][0],
        tags=tags,
    )
    host = Bastion("bastion", replace(args, **bastion))
    pulumi.export("roleArn", host.role_arn)
    pulumi.export("instanceProfileName", host.instance_profile_name)
    pulumi.export("instanceProfileArn", host.instance_profile_arn)
    pulumi.export("instanceId", host.instance_id)
    pulumi.export("startSessionCommand", host.start_session_command)
    pulumi.export("lockTableName", host.lock_table_name)
    pulumi.export("lockTableArn", host.lock_table_arn)
    pulumi.export("securityGroupId", host.security_group_id)
    pulumi.export("keyArn", key.arn)
    if parameters is not None:
        published = DeploymentParameters(
            "parameters",
            DeploymentParametersArgs(deployment_name=deployment_name, values=parameters, tags=tags),
        )
        pulumi.export("parameterPath", published.path)
        pulumi.export("parameterArns", published.arns)


def run(partition: str = "aws", **kwargs: Any) -> Recording:
    return run_stack(partition=partition, program=lambda: build(partition, **kwargs))


@pytest.fixture(scope="module", params=PARTITIONS)
def stack(request: pytest.FixtureRequest) -> tuple[str, Recording]:
    return request.param, run(request.param)


def documents(recording: Recording) -> dict[str, dict[str, Any]]:
    """Every bastion policy document by its name."""
    return {p.inputs["name"]: policy(p) for p in recording.by_type(POLICY)}


def statements(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: {k: v for k, v in s.items() if k != "Sid"} for s in doc["Statement"]}


def allow(actions: list[str], resources: list[str] | str, **condition: Any) -> dict[str, Any]:
    result: dict[str, Any] = {"Effect": "Allow", "Action": actions, "Resource": resources}
    if condition:
        result["Condition"] = condition
    return result


def deny(actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": actions, "Resource": resources}


def iam_match(pattern: str, arn: str) -> bool:
    """IAM's ARN wildcard match: `*` any run of characters, `?` one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, arn) is not None


def minified(text: str) -> int:
    return len(json.dumps(json.loads(text), separators=(",", ":")))


def children_of(recording: Recording, component: RecordedResource) -> list[RecordedResource]:
    return [r for r in recording.resources if r.parent == component.urn]


# ---------------------------------------------------------------------------------------------
# Role, trust, instance profile and the seven managed policies


@pytest.mark.parametrize(
    ("partition", "principal"),
    [
        ("aws", "ec2.amazonaws.com"),
        ("aws-us-gov", "ec2.amazonaws.com"),
        ("aws-cn", "ec2.amazonaws.com.cn"),
    ],
)
def test_role_is_trusted_by_ec2_of_its_partition_only(partition: str, principal: str) -> None:
    recording = run(partition)
    role = recording.one(ROLE, "bastion-iam-role")
    assert role.inputs["name"] == f"{PREFIX}-bastion-role"
    assert policy(role, "assumeRolePolicy") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Ec2InstanceProfile",
                "Effect": "Allow",
                "Principal": {"Service": principal},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    assert minified(role.inputs["assumeRolePolicy"]) <= TRUST_POLICY_MAX
    assert role.inputs["tags"] == TAGS
    assert recording.stack_outputs["roleArn"] == (
        f"arn:{partition}:iam::{ACCOUNT_ID}:role/{PREFIX}-bastion-role"
    )


def test_the_cluster_api_admits_the_bastion_on_443_only(stack: tuple[str, Recording]) -> None:
    _, recording = stack
    [rule] = recording.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    group = recording.one("aws:ec2/securityGroup:SecurityGroup", "bastion-security-group")
    assert rule.inputs["securityGroupId"] == CLUSTER_SECURITY_GROUP
    assert rule.inputs["referencedSecurityGroupId"] == group.id
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == (
        "tcp",
        443,
        443,
    )
    assert "cidrIpv4" not in rule.inputs


def test_an_unknown_partition_has_no_ec2_principal() -> None:
    with pytest.raises(
        ValueError, match="no service principal known for 'ec2' in partition 'aws-iso'"
    ):
        service_principal("ec2", "aws-iso")


def test_role_has_its_six_policies_and_the_session_manager_one(
    stack: tuple[str, Recording],
) -> None:
    _, recording = stack
    role_name = f"{PREFIX}-bastion-role"
    attached = [a for a in recording.by_type(ATTACHMENT) if a.inputs["role"] == role_name]
    by_arn = {p.outputs["arn"]: p.inputs["name"] for p in recording.by_type(POLICY)}
    arns = {a.inputs["policyArn"] for a in attached}
    assert len(attached) == len(arns) == 8 <= POLICIES_PER_ROLE_MAX
    # Customer-managed only: AWS's AmazonSSMManagedInstanceCore is not attached.
    assert {by_arn[arn] for arn in arns} == {f"{PREFIX}-bastion-{purpose}" for purpose in PURPOSES}
    assert "permissionsBoundary" not in recording.one(ROLE, "bastion-iam-role").inputs


def test_instance_profile_holds_the_role(stack: tuple[str, Recording]) -> None:
    partition, recording = stack
    profile = recording.one("aws:iam/instanceProfile:InstanceProfile", "bastion-instance-profile")
    assert profile.inputs == {
        "name": f"{PREFIX}-bastion-instance-profile",
        "role": f"{PREFIX}-bastion-role",
        "tags": TAGS,
    }
    assert recording.stack_outputs["instanceProfileName"] == f"{PREFIX}-bastion-instance-profile"
    assert recording.stack_outputs["instanceProfileArn"] == (
        f"arn:{partition}:iam::{ACCOUNT_ID}:instance-profile/{PREFIX}-bastion-instance-profile"
    )


# ---------------------------------------------------------------------------------------------
# The six policies, exactly


def test_ecr_access_policy(stack: tuple[str, Recording]) -> None:
    partition, recording = stack
    region = REGIONS[partition]
    doc = documents(recording)[f"{PREFIX}-bastion-ecr-access"]
    assert statements(doc) == {
        "EcrRegistry": allow(["ecr:DescribeRegistry", "ecr:GetAuthorizationToken"], "*"),
        "EcrDeploymentRepositories": allow(
            [
                "ecr:PutImageTagMutability",
                "ecr:GetDownloadUrlForLayer",
                "ecr:ListTagsForResource",
                "ecr:UploadLayerPart",
                "ecr:ListImages",
                "ecr:PutImage",
                "ecr:UntagResource",
                "ecr:BatchGetImage",
                "ecr:CompleteLayerUpload",
                "ecr:DescribeImages",
                "ecr:TagResource",
                "ecr:DescribeRepositories",
                "ecr:InitiateLayerUpload",
                "ecr:BatchCheckLayerAvailability",
                "ecr:DescribeImageScanFindings",
            ],
            [f"arn:{partition}:ecr:{region}:{ACCOUNT_ID}:repository/poolside-acme/*"],
        ),
    }
    actions = [a for s in doc["Statement"] for a in s["Action"]]
    # The spec's 15, plus the layer check every push makes and the scan findings of a push.
    assert len(actions) == len(set(actions)) == 17


def test_ecr_access_does_not_reach_a_neighbouring_deployment() -> None:
    recording = run("aws")
    doc = documents(recording)[f"{PREFIX}-bastion-ecr-access"]
    [pattern] = statements(doc)["EcrDeploymentRepositories"]["Resource"]
    repo = f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/"
    assert iam_match(pattern, repo + "poolside-acme/api")
    assert iam_match(pattern, repo + "poolside-acme/team/web")
    assert not iam_match(pattern, repo + "poolside-acmecorp/api")
    assert not iam_match(pattern, repo + "poolside-acme-prod/api")
    assert not iam_match(pattern, repo + "poolside-acme")
    assert not iam_match(pattern, f"arn:aws:ecr:us-west-2:{ACCOUNT_ID}:repository/poolside-acme/a")


def test_cognito_management_policy(stack: tuple[str, Recording]) -> None:
    partition, recording = stack
    region = REGIONS[partition]
    pools = [f"arn:{partition}:cognito-idp:{region}:{ACCOUNT_ID}:userpool/*"]
    doc = documents(recording)[f"{PREFIX}-bastion-cognito-management"]
    assert statements(doc) == {
        "CognitoLookups": allow(
            ["cognito-idp:ListUserPools", "cognito-idp:DescribeUserPoolDomain"], "*"
        ),
        "CreateDeploymentUserPools": allow(
            ["cognito-idp:CreateUserPool"],
            "*",
            StringEquals={
                "aws:RequestTag/poolside:deployment": "acme",
                "aws:RequestedRegion": region,
            },
        ),
        "ManageDeploymentUserPools": allow(
            [
                "cognito-idp:DeleteUserPool",
                "cognito-idp:UpdateUserPool",
                "cognito-idp:DescribeUserPool",
                "cognito-idp:CreateUserPoolClient",
                "cognito-idp:UpdateUserPoolClient",
                "cognito-idp:DeleteUserPoolClient",
                "cognito-idp:DescribeUserPoolClient",
                "cognito-idp:ListUserPoolClients",
                "cognito-idp:CreateUserPoolDomain",
                "cognito-idp:UpdateUserPoolDomain",
                "cognito-idp:DeleteUserPoolDomain",
                "cognito-idp:GetUserPoolMfaConfig",
                "cognito-idp:SetUserPoolMfaConfig",
                "cognito-idp:ListTagsForResource",
            ],
            pools,
            StringEquals={"aws:ResourceTag/poolside:deployment": "acme"},
        ),
        "TagWithTheDeploymentTag": allow(
            ["cognito-idp:TagResource"],
            "*",
            StringEquals={
                "aws:RequestTag/poolside:deployment": "acme",
                "aws:RequestedRegion": region,
            },
        ),
        "RetagDeploymentUserPools": allow(
            ["cognito-idp:TagResource", "cognito-idp:UntagResource"],
            pools,
            StringEquals={"aws:ResourceTag/poolside:deployment": "acme"},
            **{"ForAllValues:StringNotEquals": {"aws:TagKeys": ["poolside:deployment"]}},
        ),
        "DenyTaggingOtherUserPools": {
            "Effect": "Deny",
            "Action": ["cognito-idp:TagResource", "cognito-idp:UntagResource"],
            # this account's pools in every region
            "Resource": [f"arn:{partition}:cognito-idp:*:{ACCOUNT_ID}:userpool/*"],
            "Condition": {
                "StringNotEqualsIfExists": {"aws:ResourceTag/poolside:deployment": "acme"}
            },
        },
        "DenyHandingUserPoolsToAnotherDeployment": {
            "Effect": "Deny",
            "Action": ["cognito-idp:UpdateUserPool"],
            "Resource": [f"arn:{partition}:cognito-idp:*:{ACCOUNT_ID}:userpool/*"],
            "Condition": {
                "Null": {"aws:RequestTag/poolside:deployment": "false"},
                "StringNotEquals": {"aws:RequestTag/poolside:deployment": "acme"},
            },
        },
    }
    # Only what IAM grants on `*` alone stays there unconditioned.
    lookups = statements(doc)["CognitoLookups"]["Action"]
    assert actions_requiring_star(lookups) == set(lookups)


def test_the_cognito_fence_is_this_deployments_name() -> None:
    """A non-default deployment name reaches the tag conditions (not only the default one)."""
    doc = statements(
        documents(run("aws", deployment_name="globex"))[f"{PREFIX}-bastion-cognito-management"]
    )
    tag = "poolside:deployment"
    assert doc["CreateDeploymentUserPools"]["Condition"] == {
        "StringEquals": {f"aws:RequestTag/{tag}": "globex", "aws:RequestedRegion": "us-east-1"}
    }
    assert doc["ManageDeploymentUserPools"]["Condition"] == {
        "StringEquals": {f"aws:ResourceTag/{tag}": "globex"}
    }
    assert doc["DenyTaggingOtherUserPools"]["Condition"] == {
        "StringNotEqualsIfExists": {f"aws:ResourceTag/{tag}": "globex"}
    }


def test_ssm_parameter_store_management_policy(stack: tuple[str, Recording]) -> None:
    partition, recording = stack
    region = REGIONS[partition]
    doc = documents(recording)[f"{PREFIX}-bastion-ssm-parameters"]
    parameters = f"arn:{partition}:ssm:{region}:{ACCOUNT_ID}:parameter/poolside/deployment/acme"
    assert statements(doc) == {
        "DeploymentParameters": allow(
            [
                "ssm:PutParameter",
                "ssm:DeleteParameter",
                "ssm:GetParametersByPath",
                "ssm:GetParameters",
                "ssm:GetParameter",
                "ssm:DeleteParameters",
            ],
            [parameters, f"{parameters}/*"],
        )
    }


def test_ssm_parameters_of_another_deployment_are_out_of_reach() -> None:
    doc = documents(run("aws"))[f"{PREFIX}-bastion-ssm-parameters"]
    patterns = statements(doc)["DeploymentParameters"]["Resource"]
    parameter = f"arn:aws:ssm:us-east-1:{ACCOUNT_ID}:parameter/poolside/deployment/"

    def reachable(arn: str) -> bool:
        return any(iam_match(p, arn) for p in patterns)

    assert reachable(parameter + "acme")  # GetParametersByPath on the path itself
    assert reachable(parameter + "acme/region")
    assert reachable(parameter + "acme/ecr/repository-urls")
    assert not reachable(parameter + "acmecorp/region")
    assert not reachable(parameter + "acme-prod/region")
    assert not reachable(parameter + "region")


def test_acm_read_policy(stack: tuple[str, Recording]) -> None:
    partition, recording = stack
    region = REGIONS[partition]
    doc = documents(recording)[f"{PREFIX}-bastion-acm-read"]
    assert statements(doc) == {
        "AcmList": allow(["acm:ListCertificates"], "*"),
        "AcmReadCertificates": allow(
            ["acm:DescribeCertificate", "acm:GetCertificate", "acm:ListTagsForCertificate"],
            [f"arn:{partition}:acm:{region}:{ACCOUNT_ID}:certificate/*"],
        ),
    }


def test_terraform_state_policy_names_the_created_lock_table(stack: tuple[str, Recording]) -> None:
    partition, recording = stack
    table_arn = (
        f"arn:{partition}:dynamodb:{REGIONS[partition]}:{ACCOUNT_ID}:table/{PREFIX}-terraform-locks"
    )
    assert recording.one(TABLE, "bastion-lock-table").outputs["arn"] == table_arn
    doc = documents(recording)[f"{PREFIX}-bastion-terraform-state"]
    assert statements(doc) == {
        "StateLocks": allow(
            ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"], [table_arn]
        )
    }
    assert recording.stack_outputs["lockTableName"] == f"{PREFIX}-terraform-locks"
    assert recording.stack_outputs["lockTableArn"] == table_arn


def test_session_manager_policy(stack: tuple[str, Recording]) -> None:
    """What AWS documents for a custom Session Manager instance policy, and nothing else."""
    partition, recording = stack
    doc = documents(recording)[f"{PREFIX}-bastion-session-manager"]
    assert statements(doc) == {
        "SessionChannels": allow(
            [
                "ssmmessages:CreateControlChannel",
                "ssmmessages:CreateDataChannel",
                "ssmmessages:OpenControlChannel",
                "ssmmessages:OpenDataChannel",
            ],
            "*",
        ),
        "RegisterInstance": allow(
            ["ssm:UpdateInstanceInformation"],
            [f"arn:{partition}:ec2:{REGIONS[partition]}:{ACCOUNT_ID}:instance/*"],
        ),
    }


def other_iam(partition: str, prefix: str = PREFIX) -> dict[str, list[str]]:
    """What the program passes the bastion of its other IAM (test values, not the defaults)."""
    iam = f"arn:{partition}:iam::{ACCOUNT_ID}"
    return {
        "roles": [f"{iam}:role/{prefix}-eks-pod-role", f"{iam}:role/{prefix}-eks-node-role"],
        "policies": [f"{iam}:policy/{prefix}-pod-s3-access"],
        "oidc": [f"{iam}:oidc-provider/oidc.eks.{REGIONS[partition]}.example/id/ABC123"],
    }


def expected_default_policy(
    partition: str,
    *,
    key_arn: str,
    prefix: str = PREFIX,
    cluster: str = PREFIX,
    bucket_name: str | None = None,
) -> dict[str, dict[str, Any]]:
    region = REGIONS[partition]
    eks = f"arn:{partition}:eks:{region}:{ACCOUNT_ID}"
    bucket = f"arn:{partition}:s3:::{bucket_name or f'{prefix}-{ACCOUNT_ID}'}"
    return {
        "ReadEc2": allow(
            [
                "ec2:DescribeAvailabilityZones",
                "ec2:DescribeInstances",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeRouteTables",
                "ec2:DescribeSecurityGroupRules",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
                "ec2:DescribeTags",
                "ec2:DescribeVolumes",
                "ec2:DescribeVpcEndpoints",
                "ec2:DescribeVpcs",
            ],
            "*",
        ),
        "ReadLoadBalancers": allow(
            [
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeTags",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetHealth",
            ],
            "*",
        ),
        "ListAccountResources": allow(
            [
                "eks:ListClusters",
                "iam:ListOpenIDConnectProviders",
                "kms:ListAliases",
                "kms:ListKeys",
                "logs:DescribeLogGroups",
                "s3:ListAllMyBuckets",
            ],
            "*",
        ),
        "ReadDeploymentCluster": allow(
            [
                "eks:DescribeCluster",
                "eks:ListAccessEntries",
                "eks:ListAddons",
                "eks:ListNodegroups",
            ],
            [f"{eks}:cluster/{cluster}"],
        ),
        "ReadDeploymentNodegroups": allow(
            ["eks:DescribeNodegroup"], [f"{eks}:nodegroup/{cluster}/*"]
        ),
        "ReadDeploymentAddons": allow(["eks:DescribeAddon"], [f"{eks}:addon/{cluster}/*"]),
        "ReadDeploymentAccessEntries": allow(
            ["eks:DescribeAccessEntry", "eks:ListAssociatedAccessPolicies"],
            [f"{eks}:access-entry/{cluster}/*"],
        ),
        "ReadDeploymentKey": allow(
            ["kms:DescribeKey", "kms:GetKeyRotationStatus", "kms:ListResourceTags"], [key_arn]
        ),
        "ReadClusterLogs": allow(
            ["logs:DescribeLogStreams", "logs:FilterLogEvents", "logs:GetLogEvents"],
            [f"arn:{partition}:logs:{region}:{ACCOUNT_ID}:log-group:/aws/eks/{cluster}/*"],
        ),
        "DeploymentBucketList": allow(["s3:ListBucket"], [bucket]),
        "DeploymentBucketReadWriteObjects": allow(
            ["s3:GetObject", "s3:PutObject"], [f"{bucket}/*"]
        ),
        "UseDeploymentKey": allow(
            ["kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"],
            [key_arn],
        ),
        "DenyKeyDestruction": deny(["kms:ScheduleKeyDeletion", "kms:DisableKey"], [key_arn]),
    }


def expected_default_iam_read_policy(
    partition: str, *, prefix: str = PREFIX
) -> dict[str, dict[str, Any]]:
    iam = f"arn:{partition}:iam::{ACCOUNT_ID}"
    others = other_iam(partition, prefix)
    return {
        "ReadDeploymentRoles": allow(
            [
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:ListAttachedRolePolicies",
                "iam:ListRolePolicies",
            ],
            [f"{iam}:role/{prefix}-bastion-role", *others["roles"]],
        ),
        "ReadDeploymentPolicies": allow(
            ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions"],
            [
                *(f"{iam}:policy/{prefix}-bastion-{purpose}" for purpose in PURPOSES),
                *others["policies"],
                f"arn:{partition}:iam::aws:policy/*",
            ],
        ),
        "ReadDeploymentInstanceProfile": allow(
            ["iam:GetInstanceProfile"],
            [f"{iam}:instance-profile/{prefix}-bastion-instance-profile"],
        ),
        "ReadDeploymentOidcProvider": allow(["iam:GetOpenIDConnectProvider"], others["oidc"]),
    }


def test_bastion_host_default_policy(stack: tuple[str, Recording]) -> None:
    partition, recording = stack
    doc = documents(recording)[f"{PREFIX}-bastion-default"]
    assert statements(doc) == expected_default_policy(
        partition, key_arn=recording.stack_outputs["keyArn"]
    )
    iam_read = documents(recording)[f"{PREFIX}-bastion-default-iam-read"]
    assert statements(iam_read) == expected_default_iam_read_policy(partition)


def test_an_existing_cluster_is_read_by_its_own_name() -> None:
    recording = run("aws", cluster_name="customer-eks")
    doc = statements(documents(recording)[f"{PREFIX}-bastion-default"])
    eks = f"arn:aws:eks:us-east-1:{ACCOUNT_ID}"
    assert doc["ReadDeploymentCluster"]["Resource"] == [f"{eks}:cluster/customer-eks"]
    assert doc["ReadDeploymentNodegroups"]["Resource"] == [f"{eks}:nodegroup/customer-eks/*"]
    assert doc["ReadClusterLogs"]["Resource"] == [
        f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:/aws/eks/customer-eks/*"
    ]


def test_the_bastion_writes_no_iam_at_all(stack: tuple[str, Recording]) -> None:
    """Every IAM action any bastion policy allows is a read (Get/List), whatever the resource."""
    _, recording = stack
    iam_actions = {
        action
        for doc in documents(recording).values()
        for s in doc["Statement"]
        if s["Effect"] == "Allow"
        for action in s["Action"]
        if action.startswith("iam:")
    }
    assert iam_actions == {
        "iam:GetInstanceProfile",
        "iam:GetOpenIDConnectProvider",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:ListOpenIDConnectProviders",
        "iam:ListPolicyVersions",
        "iam:ListRolePolicies",
    }
    # No boundary and no role is created for anyone else: the bastion's is the only role.
    assert [r.inputs["name"] for r in recording.by_type(ROLE)] == [f"{PREFIX}-bastion-role"]
    assert "permissionsBoundary" not in recording.one(ROLE, "bastion-iam-role").inputs


def test_the_key_cannot_be_scheduled_for_deletion_or_disabled(
    stack: tuple[str, Recording],
) -> None:
    _, recording = stack
    default = statements(documents(recording)[f"{PREFIX}-bastion-default"])
    assert default["DenyKeyDestruction"] == deny(
        ["kms:ScheduleKeyDeletion", "kms:DisableKey"], [recording.stack_outputs["keyArn"]]
    )


# ---------------------------------------------------------------------------------------------
# Quotas and the IAM lint


@pytest.mark.parametrize(
    "cluster",
    [
        pytest.param(
            {"existingClusterName": "c" * 100, "privateSubnetIds": [SUBNET]}, id="existing"
        ),
        pytest.param(CLUSTER, id="created"),  # three more roles to read: cluster, node, VPC CNI
    ],
)
def test_policies_fit_the_quotas_with_the_longest_names(cluster: dict[str, Any]) -> None:
    """The whole program, not a stand-in for the IAM it reads: aws-us-gov (the longest partition
    and region), a 35-character prefix, a 32-character deployment name, a 100-character
    existing cluster or a created one, a 63-character bucket, and every optional role on."""
    recording = run_stack(
        {
            "deploymentName": "d" * 32,
            "deploymentPrefix": "p" * 35,
            "bucket": {"name": "b" * 63},
            "cluster": cluster,
        },
        partition="aws-us-gov",
    )
    bastion = recording.one("poolside:aws:IamRole", "bastion-iam")
    sizes = {
        p.inputs["name"]: minified(p.inputs["policy"])
        for p in recording.by_type(POLICY)
        if p.parent == bastion.urn
    }
    assert len(sizes) == len(PURPOSES)
    assert max(sizes.values()) <= MANAGED_POLICY_MAX, sizes
    # Room for the roles the program may add: at least a sixth of each quota left.
    assert max(sizes.values()) <= MANAGED_POLICY_MAX * 5 // 6, sizes
    for role in recording.by_type(ROLE):
        assert minified(role.inputs["assumeRolePolicy"]) <= TRUST_POLICY_MAX


def test_every_bastion_document_passes_the_iam_lint(stack: tuple[str, Recording]) -> None:
    partition, recording = stack
    docs = documents(recording)
    docs["trust"] = policy(recording.one(ROLE, "bastion-iam-role"), "assumeRolePolicy")
    assert len(docs) == len(PURPOSES) + 1
    problems = {
        name: found
        for name, doc in docs.items()
        if (
            found := lint_policy(
                doc,
                partition=partition,
                region=REGIONS[partition],
                account_id=ACCOUNT_ID,
                star_allowlist=STAR_ALLOWLIST,
            )
        )
    }
    assert problems == {}


def test_the_star_allowlist_holds_only_documented_actions_that_take_resources() -> None:
    assert actions_requiring_star(STAR_ALLOWLIST) == set()
    assert all(reason.strip() for reason in STAR_ALLOWLIST.values())


def test_every_action_on_star_needs_it_or_is_allowlisted(stack: tuple[str, Recording]) -> None:
    _, recording = stack
    on_star = {
        action
        for doc in documents(recording).values()
        for s in doc["Statement"]
        if s["Effect"] == "Allow" and s["Resource"] == "*"
        for action in s["Action"]
    }
    # Every read that accepts an ARN is scoped. The one exception is tagging a user pool as it
    # is created (before it has an ARN), fenced by the request tag and an explicit Deny; its
    # reason is in the one allowlist, beside the Load Balancer Controller's vendor policy.
    assert on_star - actions_requiring_star(on_star) == {"cognito-idp:TagResource"}
    assert "cognito-idp:TagResource" in STAR_ALLOWLIST


# ---------------------------------------------------------------------------------------------
# The instance and its network


def test_instance_is_ssm_only_imdsv2_encrypted_and_keyless(stack: tuple[str, Recording]) -> None:
    partition, recording = stack
    instance = recording.one(INSTANCE, "bastion-instance")
    key_arn = recording.stack_outputs["keyArn"]
    assert instance.inputs["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": 1,
        "instanceMetadataTags": "disabled",
    }
    assert "keyName" not in instance.inputs
    assert instance.inputs["associatePublicIpAddress"] is False
    assert instance.inputs["rootBlockDevice"] == {
        "encrypted": True,
        "kmsKeyId": key_arn,
        "volumeType": "gp3",
        "volumeSize": 30,
        "deleteOnTermination": True,
        "tags": TAGS,
    }
    assert instance.inputs["iamInstanceProfile"] == f"{PREFIX}-bastion-instance-profile"
    assert instance.inputs["subnetId"] == SUBNET
    assert instance.inputs["instanceType"] == "t3.medium"
    group = recording.one(SECURITY_GROUP, "bastion-security-group")
    assert instance.inputs["vpcSecurityGroupIds"] == [group.id]
    assert instance.inputs["tags"] == {**TAGS, "Name": f"{PREFIX}-bastion"}
    assert re.fullmatch(r"i-[0-9a-f]{17}", instance.id)
    assert recording.stack_outputs["instanceId"] == instance.id
    assert recording.stack_outputs["startSessionCommand"] == (
        f"aws ssm start-session --target {instance.id} --region {REGIONS[partition]}"
    )
    # The SSM agent registers with the role's policies, so they are attached first.
    [session_manager] = [
        p for p in recording.by_type(POLICY) if p.inputs["name"].endswith("-session-manager")
    ]
    [attachment] = [
        a
        for a in recording.by_type(ATTACHMENT)
        if a.inputs["policyArn"] == session_manager.outputs["arn"]
    ]
    assert attachment.urn in instance.dependencies


def test_default_ami_is_amazon_linux_2023_from_the_public_parameter() -> None:
    recording = run("aws")
    instance = recording.one(INSTANCE, "bastion-instance")
    assert re.fullmatch(r"ami-[0-9a-f]{17}", instance.inputs["ami"])


def test_given_ami_wins() -> None:
    recording = run("aws", ami_id="ami-0123456789abcdef0")
    assert recording.one(INSTANCE, "bastion-instance").inputs["ami"] == "ami-0123456789abcdef0"


def test_user_data_installs_pinned_and_verified_kubectl_and_helm() -> None:
    user_data = run("aws").one(INSTANCE, "bastion-instance").inputs["userData"]
    assert user_data.startswith("#!/bin/bash\n")
    assert "set -euo pipefail" in user_data
    assert f"https://dl.k8s.io/release/{KUBECTL_VERSION}/bin/linux/amd64/kubectl" in user_data
    assert f'echo "{KUBECTL_SHA256}  kubectl" | sha256sum --check --strict' in user_data
    assert f"https://get.helm.sh/helm-{HELM_VERSION}-linux-amd64.tar.gz" in user_data
    assert f'echo "{HELM_SHA256}  helm.tar.gz" | sha256sum --check --strict' in user_data
    assert re.fullmatch(r"v\d+\.\d+\.\d+", KUBECTL_VERSION)
    assert re.fullmatch(r"v3\.\d+\.\d+", HELM_VERSION)
    assert re.fullmatch(r"[0-9a-f]{64}", KUBECTL_SHA256)
    assert re.fullmatch(r"[0-9a-f]{64}", HELM_SHA256)


def test_tools_can_be_left_out() -> None:
    instance = run("aws", install_tools=False).one(INSTANCE, "bastion-instance")
    assert "userData" not in instance.inputs


def test_root_volume_size_is_configurable() -> None:
    instance = run("aws", root_volume_size_gib=64).one(INSTANCE, "bastion-instance")
    assert instance.inputs["rootBlockDevice"]["volumeSize"] == 64


@pytest.mark.parametrize(
    ("instance_type", "arm64"),
    [
        ("t3.medium", False),
        ("m6i.large", False),
        ("g4dn.xlarge", False),
        ("g6e.12xlarge", False),
        ("m7i-flex.large", False),
        ("t4g.medium", True),
        ("m7g.large", True),
        ("c7gn.xlarge", True),
        ("x2gd.medium", True),
        ("g5g.xlarge", True),
        ("a1.large", True),
    ],
)
def test_arm64_instance_types_are_recognised(instance_type: str, arm64: bool) -> None:
    assert is_arm64_instance_type(instance_type) is arm64


def test_an_arm64_instance_type_is_refused_with_the_x86_64_ami_and_tools() -> None:
    with pytest.raises(Exception, match=r"poolside:bastion.instanceType 't4g.medium' is arm64"):
        run("aws", instance_type="t4g.medium")


def test_security_group_has_no_ingress_and_only_https_egress(
    stack: tuple[str, Recording],
) -> None:
    partition, recording = stack
    group = recording.one(SECURITY_GROUP, "bastion-security-group")
    assert group.inputs["ingress"] == []
    assert group.inputs["egress"] == [
        {
            "description": "HTTPS: SSM, EKS, ECR, S3, STS and other AWS APIs; tools",
            "protocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "cidrBlocks": ["0.0.0.0/0"],
        }
    ]
    assert group.inputs["vpcId"] == VPC
    # a name that changes with a replacement (components/replacement.py)
    assert group.inputs["namePrefix"] == f"{PREFIX}-bastion-"
    assert "name" not in group.inputs
    assert re.fullmatch(r"sg-[0-9a-f]{17}", group.id)
    assert group.outputs["arn"] == (
        f"arn:{partition}:ec2:{REGIONS[partition]}:{ACCOUNT_ID}:security-group/{group.id}"
    )
    # The only ingress rule the bastion makes opens the cluster's API to it, never the reverse.
    assert not [
        r
        for r in recording.resources
        if "SecurityGroupIngressRule" in r.type and r.inputs["securityGroupId"] == group.id
    ]
    assert not [
        r for r in recording.resources if r.type == "aws:ec2/securityGroupRule:SecurityGroupRule"
    ]


def test_without_a_vpc_id_the_vpc_is_looked_up_from_the_subnet() -> None:
    """An existing cluster: no `cluster.vpcId`, so the subnet says which VPC it is in."""
    recording = run("aws", vpc_id=None)
    vpc_id = recording.one(SECURITY_GROUP, "bastion-security-group").inputs["vpcId"]
    assert re.fullmatch(r"vpc-[0-9a-f]{17}", vpc_id)
    assert vpc_id != VPC


# ---------------------------------------------------------------------------------------------
# Cluster access, lock table, components


def test_access_entry_makes_the_role_cluster_admin(stack: tuple[str, Recording]) -> None:
    partition, recording = stack
    role_arn = recording.stack_outputs["roleArn"]
    entry = recording.one(ACCESS_ENTRY, "bastion-access-entry")
    assert entry.inputs == {
        "clusterName": PREFIX,
        "principalArn": role_arn,
        "type": "STANDARD",
        "tags": TAGS,
    }
    association = recording.one(ASSOCIATION, "bastion-cluster-admin")
    assert association.inputs == {
        "clusterName": PREFIX,
        "principalArn": role_arn,
        "policyArn": (
            f"arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        ),
        "accessScope": {"type": "cluster"},
    }
    assert entry.urn in association.dependencies


def test_access_entry_for_an_existing_cluster_and_a_cluster_name_output() -> None:
    def program() -> None:
        cluster_name = pulumi.Output.from_input("customer-eks").apply(lambda name: name)
        build("aws", cluster_name=cluster_name)

    recording = run_stack(program=program)
    assert recording.one(ACCESS_ENTRY, "bastion-access-entry").inputs["clusterName"] == (
        "customer-eks"
    )
    default = statements(documents(recording)[f"{PREFIX}-bastion-default"])
    assert default["ReadDeploymentCluster"]["Resource"] == [
        f"arn:aws:eks:us-east-1:{ACCOUNT_ID}:cluster/customer-eks"
    ]


def test_lock_table_is_pay_per_request_recoverable_encrypted_and_retained(
    stack: tuple[str, Recording],
) -> None:
    _, recording = stack
    table = recording.one(TABLE, "bastion-lock-table")
    assert table.inputs == {
        "name": f"{PREFIX}-terraform-locks",
        "billingMode": "PAY_PER_REQUEST",
        "hashKey": "LockID",
        "attributes": [{"name": "LockID", "type": "S"}],
        "pointInTimeRecovery": {"enabled": True},
        "serverSideEncryption": {"enabled": True, "kmsKeyArn": recording.stack_outputs["keyArn"]},
        "tags": TAGS,
    }
    assert table.retain_on_delete is True


@pytest.mark.parametrize("partition", PARTITIONS)
def test_an_existing_lock_table_is_used_by_name(partition: str) -> None:
    recording = run(partition, existing_lock_table_name="customer-terraform-locks")
    assert recording.by_type(TABLE) == []
    arn = (
        f"arn:{partition}:dynamodb:{REGIONS[partition]}:{ACCOUNT_ID}:table/customer-terraform-locks"
    )
    doc = documents(recording)[f"{PREFIX}-bastion-terraform-state"]
    assert statements(doc)["StateLocks"]["Resource"] == [arn]
    assert recording.stack_outputs["lockTableName"] == "customer-terraform-locks"
    assert recording.stack_outputs["lockTableArn"] == arn


def test_everything_belongs_to_the_bastion_component() -> None:
    recording = run("aws")
    component = recording.one("poolside:aws:Bastion", "bastion")
    children = {(r.type, r.name) for r in children_of(recording, component)}
    assert children == {
        (TABLE, "bastion-lock-table"),
        ("poolside:aws:IamRole", "bastion-iam"),
        ("aws:iam/instanceProfile:InstanceProfile", "bastion-instance-profile"),
        (SECURITY_GROUP, "bastion-security-group"),
        ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "bastion-cluster-api"),
        (INSTANCE, "bastion-instance"),
        (ACCESS_ENTRY, "bastion-access-entry"),
        (ASSOCIATION, "bastion-cluster-admin"),
    }
    iam = recording.one("poolside:aws:IamRole", "bastion-iam")
    iam_children = children_of(recording, iam)
    assert {r.type for r in iam_children} == {ROLE, POLICY, ATTACHMENT}
    assert len([r for r in iam_children if r.type == POLICY]) == len(PURPOSES)
    assert len([r for r in iam_children if r.type == ATTACHMENT]) == len(PURPOSES)


# ---------------------------------------------------------------------------------------------
# The deployment's SSM parameters


VALUES = {
    "region": "us-east-1",
    "cluster-name": PREFIX,
    "bucket-name": f"{PREFIX}-{ACCOUNT_ID}",
    "ecr/repository-urls": '{"api":"x"}',
}


@pytest.mark.parametrize("partition", PARTITIONS)
def test_parameters_are_published_under_the_deployments_path(partition: str) -> None:
    recording = run(partition, parameters=VALUES)
    component = recording.one("poolside:aws:DeploymentParameters", "parameters")
    published = recording.by_type(PARAMETER)
    assert {p.parent for p in published} == {component.urn}
    assert {p.name: p.inputs for p in published} == {
        f"parameters-{key.replace('/', '-')}": {
            "name": f"/poolside/deployment/acme/{key}",
            "type": "String",
            "tier": "Standard",
            "dataType": "text",
            "insecureValue": value,
            "tags": TAGS,
        }
        for key, value in VALUES.items()
    }
    assert recording.stack_outputs["parameterPath"] == "/poolside/deployment/acme/"
    arns = recording.stack_outputs["parameterArns"]
    region = REGIONS[partition]
    assert arns["region"] == (
        f"arn:{partition}:ssm:{region}:{ACCOUNT_ID}:parameter/poolside/deployment/acme/region"
    )
    # ... and the bastion's parameter policy reaches every one of them.
    patterns = statements(documents(recording)[f"{PREFIX}-bastion-ssm-parameters"])[
        "DeploymentParameters"
    ]["Resource"]
    assert all(any(iam_match(p, arn) for p in patterns) for arn in arns.values())


def test_parameter_names_are_checked() -> None:
    with pytest.raises(Exception, match="parameter names"):
        run("aws", parameters={"bad name": "x"})
