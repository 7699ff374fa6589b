"""The bastion's role trust and its six policies (the default one in two parts) plus the Session
Manager one, exactly, in every partition; their reach, quotas and the IAM lint."""

from __future__ import annotations

from typing import Any

import pytest

from offline_preview.engine import Recording
from tests.support.bastion import (
    ATTACHMENT,
    POLICY,
    PREFIX,
    PURPOSES,
    ROLE,
    SUBNET,
    TABLE,
    documents,
    other_iam,
    run,
)
from tests.support.harness import ACCOUNT_ID, CLUSTER, REGIONS, TAGS, run_stack
from tests.support.iam_allowlist import STAR_ALLOWLIST
from tests.support.iam_lint import actions_requiring_star, lint_policy
from tests.support.policies import (
    MANAGED_POLICY_MAX,
    POLICIES_PER_ROLE_MAX,
    TRUST_POLICY_MAX,
    allow,
    deny,
    iam_match,
    minified,
    policy,
    statements_by_sid,
)


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


def test_role_has_its_six_policies_and_the_session_manager_one(
    bastion_stack: tuple[str, Recording],
) -> None:
    _, recording = bastion_stack
    role_name = f"{PREFIX}-bastion-role"
    attached = [a for a in recording.by_type(ATTACHMENT) if a.inputs["role"] == role_name]
    by_arn = {p.outputs["arn"]: p.inputs["name"] for p in recording.by_type(POLICY)}
    arns = {a.inputs["policyArn"] for a in attached}
    assert len(attached) == len(arns) == 8 <= POLICIES_PER_ROLE_MAX
    # Customer-managed only: AWS's AmazonSSMManagedInstanceCore is not attached.
    assert {by_arn[arn] for arn in arns} == {f"{PREFIX}-bastion-{purpose}" for purpose in PURPOSES}
    assert "permissionsBoundary" not in recording.one(ROLE, "bastion-iam-role").inputs


def test_ecr_access_policy(bastion_stack: tuple[str, Recording]) -> None:
    partition, recording = bastion_stack
    region = REGIONS[partition]
    doc = documents(recording)[f"{PREFIX}-bastion-ecr-access"]
    assert statements_by_sid(doc) == {
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
    [pattern] = statements_by_sid(doc)["EcrDeploymentRepositories"]["Resource"]
    repo = f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/"
    assert iam_match(pattern, repo + "poolside-acme/api")
    assert iam_match(pattern, repo + "poolside-acme/team/web")
    assert not iam_match(pattern, repo + "poolside-acmecorp/api")
    assert not iam_match(pattern, repo + "poolside-acme-prod/api")
    assert not iam_match(pattern, repo + "poolside-acme")
    assert not iam_match(pattern, f"arn:aws:ecr:us-west-2:{ACCOUNT_ID}:repository/poolside-acme/a")


def test_cognito_management_policy(bastion_stack: tuple[str, Recording]) -> None:
    partition, recording = bastion_stack
    region = REGIONS[partition]
    pools = [f"arn:{partition}:cognito-idp:{region}:{ACCOUNT_ID}:userpool/*"]
    doc = documents(recording)[f"{PREFIX}-bastion-cognito-management"]
    assert statements_by_sid(doc) == {
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
    lookups = statements_by_sid(doc)["CognitoLookups"]["Action"]
    assert actions_requiring_star(lookups) == set(lookups)


def test_the_cognito_fence_is_this_deployments_name() -> None:
    """A non-default deployment name reaches the tag conditions (not only the default one)."""
    doc = statements_by_sid(
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


def test_ssm_parameter_store_management_policy(bastion_stack: tuple[str, Recording]) -> None:
    partition, recording = bastion_stack
    region = REGIONS[partition]
    doc = documents(recording)[f"{PREFIX}-bastion-ssm-parameters"]
    parameters = f"arn:{partition}:ssm:{region}:{ACCOUNT_ID}:parameter/poolside/deployment/acme"
    assert statements_by_sid(doc) == {
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
    patterns = statements_by_sid(doc)["DeploymentParameters"]["Resource"]
    parameter = f"arn:aws:ssm:us-east-1:{ACCOUNT_ID}:parameter/poolside/deployment/"

    def reachable(arn: str) -> bool:
        return any(iam_match(p, arn) for p in patterns)

    assert reachable(parameter + "acme")  # GetParametersByPath on the path itself
    assert reachable(parameter + "acme/region")
    assert reachable(parameter + "acme/ecr/repository-urls")
    assert not reachable(parameter + "acmecorp/region")
    assert not reachable(parameter + "acme-prod/region")
    assert not reachable(parameter + "region")


def test_acm_read_policy(bastion_stack: tuple[str, Recording]) -> None:
    partition, recording = bastion_stack
    region = REGIONS[partition]
    doc = documents(recording)[f"{PREFIX}-bastion-acm-read"]
    assert statements_by_sid(doc) == {
        "AcmList": allow(["acm:ListCertificates"], "*"),
        "AcmReadCertificates": allow(
            ["acm:DescribeCertificate", "acm:GetCertificate", "acm:ListTagsForCertificate"],
            [f"arn:{partition}:acm:{region}:{ACCOUNT_ID}:certificate/*"],
        ),
    }


def test_terraform_state_policy_names_the_created_lock_table(
    bastion_stack: tuple[str, Recording],
) -> None:
    partition, recording = bastion_stack
    table_arn = (
        f"arn:{partition}:dynamodb:{REGIONS[partition]}:{ACCOUNT_ID}:table/{PREFIX}-terraform-locks"
    )
    assert recording.one(TABLE, "bastion-lock-table").outputs["arn"] == table_arn
    doc = documents(recording)[f"{PREFIX}-bastion-terraform-state"]
    assert statements_by_sid(doc) == {
        "StateLocks": allow(
            ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"], [table_arn]
        )
    }
    assert recording.stack_outputs["lockTableName"] == f"{PREFIX}-terraform-locks"
    assert recording.stack_outputs["lockTableArn"] == table_arn


def test_session_manager_policy(bastion_stack: tuple[str, Recording]) -> None:
    """What AWS documents for a custom Session Manager instance policy, and nothing else."""
    partition, recording = bastion_stack
    doc = documents(recording)[f"{PREFIX}-bastion-session-manager"]
    assert statements_by_sid(doc) == {
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


def test_bastion_host_default_policy(bastion_stack: tuple[str, Recording]) -> None:
    partition, recording = bastion_stack
    doc = documents(recording)[f"{PREFIX}-bastion-default"]
    assert statements_by_sid(doc) == expected_default_policy(
        partition, key_arn=recording.stack_outputs["keyArn"]
    )
    iam_read = documents(recording)[f"{PREFIX}-bastion-default-iam-read"]
    assert statements_by_sid(iam_read) == expected_default_iam_read_policy(partition)


def test_an_existing_cluster_is_read_by_its_own_name() -> None:
    recording = run("aws", cluster_name="customer-eks")
    doc = statements_by_sid(documents(recording)[f"{PREFIX}-bastion-default"])
    eks = f"arn:aws:eks:us-east-1:{ACCOUNT_ID}"
    assert doc["ReadDeploymentCluster"]["Resource"] == [f"{eks}:cluster/customer-eks"]
    assert doc["ReadDeploymentNodegroups"]["Resource"] == [f"{eks}:nodegroup/customer-eks/*"]
    assert doc["ReadClusterLogs"]["Resource"] == [
        f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:/aws/eks/customer-eks/*"
    ]


def test_the_bastion_writes_no_iam_at_all(bastion_stack: tuple[str, Recording]) -> None:
    """Every IAM action any bastion policy allows is a read (Get/List), whatever the resource."""
    _, recording = bastion_stack
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
    bastion_stack: tuple[str, Recording],
) -> None:
    _, recording = bastion_stack
    default = statements_by_sid(documents(recording)[f"{PREFIX}-bastion-default"])
    assert default["DenyKeyDestruction"] == deny(
        ["kms:ScheduleKeyDeletion", "kms:DisableKey"], [recording.stack_outputs["keyArn"]]
    )


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


def test_every_bastion_document_passes_the_iam_lint(bastion_stack: tuple[str, Recording]) -> None:
    partition, recording = bastion_stack
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


def test_every_action_on_star_needs_it_or_is_allowlisted(
    bastion_stack: tuple[str, Recording],
) -> None:
    _, recording = bastion_stack
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
