"""The cluster, its OIDC provider and the IRSA roles: exact trust policies and exact wiring."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.eks_cluster import EksCluster, EksClusterArgs, look_up_cluster
from components.irsa_role import IrsaRole, IrsaRoleArgs, irsa_trust_policy
from components.oidc_provider import OidcProvider, OidcProviderArgs
from offline_preview.engine import Recording
from stack_config import parse_stack_config
from tests.harness import ACCOUNT_ID, CLUSTER, PARTITIONS, REGIONS, environment, policy, run_stack

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000"
SUFFIX = {"aws": "amazonaws.com", "aws-us-gov": "amazonaws.com", "aws-cn": "amazonaws.com.cn"}
EC2 = {
    "aws": "ec2.amazonaws.com",
    "aws-us-gov": "ec2.amazonaws.com",
    "aws-cn": "ec2.amazonaws.com.cn",
}


def cluster_config(**cluster: Any) -> Any:
    raw = {"deploymentName": "acme", "cluster": cluster or CLUSTER, "bastion": {"enabled": False}}
    return parse_stack_config(raw).cluster


def build(partition: str, cluster: Any, existing_provider: str | None = None) -> None:
    eks = EksCluster(
        "cluster",
        EksClusterArgs(
            env=environment(partition),
            cluster_name=cluster.existing_cluster_name or "poolside-acme",
            config=cluster,
            kms_key_arn=KEY_ARN,
            role_name_prefix="poolside-acme",
            existing=(
                look_up_cluster(cluster.existing_cluster_name)
                if cluster.existing_cluster_name
                else None
            ),
            tags={"poolside:deployment": "acme"},
        ),
    )
    oidc = OidcProvider(
        "oidc",
        OidcProviderArgs(issuer_url=eks.oidc_issuer_url, existing_provider_arn=existing_provider),
    )
    role = IrsaRole(
        "pod",
        IrsaRoleArgs(
            oidc=oidc,
            service_accounts=["poolside:poolside-api", "poolside:poolside-worker"],
            role_name="poolside-acme-eks-pod-role",
            description="test",
            policy_name_prefix="poolside-acme",
        ),
    )
    pulumi.export("name", eks.name)
    pulumi.export("endpoint", eks.endpoint)
    pulumi.export("issuerUrl", oidc.issuer_url)
    pulumi.export("issuer", oidc.issuer)
    pulumi.export("providerArn", oidc.arn)
    pulumi.export("roleArn", role.arn)


def issuer_of(recording: Recording) -> str:
    return str(recording.stack_outputs["issuer"])


@pytest.mark.parametrize("partition", PARTITIONS)
def test_created_cluster_is_private_encrypted_and_uses_our_roles(partition: str) -> None:
    config = cluster_config(
        **{k: v for k, v in CLUSTER.items() if k != "nodeGroups"},
        nodeGroups=[
            {"name": "system", "minSize": 2, "desiredSize": 2, "maxSize": 4},
            {
                "name": "gpu",
                "gpu": True,
                "instanceTypes": ["g6e.12xlarge"],
                "minSize": 0,
                "desiredSize": 1,
                "maxSize": 2,
                "labels": {"poolside.ai/workload": "inference"},
                "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}],
            },
        ],
    )
    recording = run_stack(partition=partition, program=lambda: build(partition, config))
    eks = recording.one("eks:index:Cluster", "cluster-eks")
    cluster_role = recording.one("aws:iam/role:Role", "cluster-cluster-role")
    assert eks.inputs["name"] == "poolside-acme"
    assert eks.inputs["version"] == "1.34"
    assert eks.inputs["vpcId"] == CLUSTER["vpcId"]
    assert eks.inputs["privateSubnetIds"] == CLUSTER["privateSubnetIds"]
    assert "publicSubnetIds" not in eks.inputs
    assert eks.inputs["endpointPrivateAccess"] is True
    assert eks.inputs["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in eks.inputs
    assert eks.inputs["authenticationMode"] == "API"
    assert eks.inputs["enabledClusterLogTypes"] == ["api", "audit", "authenticator"]
    assert eks.inputs["encryptionConfigKeyArn"] == KEY_ARN
    assert eks.inputs["createOidcProvider"] is False
    assert eks.inputs["skipDefaultNodeGroup"] is True
    assert eks.inputs["nodeAssociatePublicIpAddress"] is False
    assert eks.inputs["serviceRole"] == cluster_role.urn
    assert policy(cluster_role, "assumeRolePolicy")["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "eks.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    assert cluster_role.inputs["name"] == "poolside-acme-eks-cluster-role"
    node_role = recording.one("aws:iam/role:Role", "cluster-node-role")
    assert node_role.inputs["name"] == "poolside-acme-eks-node-role"
    assert policy(node_role, "assumeRolePolicy")["Statement"][0]["Principal"] == {
        "Service": EC2[partition]
    }
    attachments = {
        (a.inputs["role"], a.inputs["policyArn"])
        for a in recording.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    }
    managed = f"arn:{partition}:iam::aws:policy/"
    assert attachments == {
        ("poolside-acme-eks-cluster-role", managed + "AmazonEKSClusterPolicy"),
        ("poolside-acme-eks-node-role", managed + "AmazonEKSWorkerNodePolicy"),
        ("poolside-acme-eks-node-role", managed + "AmazonEC2ContainerRegistryReadOnly"),
        ("poolside-acme-eks-node-role", managed + "AmazonEKS_CNI_Policy"),
    }

    groups = {g.name: g for g in recording.by_type("eks:index:ManagedNodeGroup")}
    assert set(groups) == {"cluster-system", "cluster-gpu"}
    gpu = groups["cluster-gpu"].inputs
    assert gpu["cluster"] == eks.urn
    assert gpu["nodeRole"] == node_role.urn
    assert gpu["nodeGroupName"] == "poolside-acme-gpu"
    assert gpu["amiType"] == "AL2023_x86_64_NVIDIA"
    assert gpu["instanceTypes"] == ["g6e.12xlarge"]
    assert gpu["scalingConfig"] == {"minSize": 0, "desiredSize": 1, "maxSize": 2}
    assert gpu["labels"] == {"poolside.ai/workload": "inference"}
    assert gpu["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert gpu["subnetIds"] == CLUSTER["privateSubnetIds"]
    assert gpu["enableIMDSv2"] is True
    assert gpu["ignoreScalingChanges"] is True
    assert gpu["diskSize"] == 100
    assert groups["cluster-system"].inputs["amiType"] == "AL2023_x86_64_STANDARD"
    # Nodes join only once their role can: every node-role attachment precedes the group.
    # Depending on the node role's IamRole component expands to the role and every attachment.
    node_role_component = recording.one("poolside:aws:IamRole", "cluster-node")
    node_role_parts = {r.urn for r in recording.resources if r.parent == node_role_component.urn}
    assert len(node_role_parts) == 4
    assert node_role_parts <= set(groups["cluster-gpu"].dependencies)


def test_public_endpoint_carries_the_allowlist() -> None:
    config = cluster_config(
        **CLUSTER, endpointPublicAccess=True, publicAccessCidrs=["203.0.113.0/24"]
    )
    recording = run_stack(program=lambda: build("aws", config))
    eks = recording.one("eks:index:Cluster", "cluster-eks")
    assert eks.inputs["endpointPublicAccess"] is True
    assert eks.inputs["publicAccessCidrs"] == ["203.0.113.0/24"]


@pytest.mark.parametrize("partition", PARTITIONS)
def test_oidc_provider_has_the_sts_audience_and_no_thumbprint(partition: str) -> None:
    recording = run_stack(partition=partition, program=lambda: build(partition, cluster_config()))
    provider = recording.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "oidc-provider")
    issuer_url = recording.stack_outputs["issuerUrl"]
    assert issuer_url.startswith(f"https://oidc.eks.{REGIONS[partition]}.{SUFFIX[partition]}/id/")
    assert provider.inputs["url"] == issuer_url
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert "thumbprintLists" not in provider.inputs
    issuer = issuer_url.removeprefix("https://")
    assert recording.stack_outputs["issuer"] == issuer
    assert recording.stack_outputs["providerArn"] == (
        f"arn:{partition}:iam::{ACCOUNT_ID}:oidc-provider/{issuer}"
    )


@pytest.mark.parametrize("partition", PARTITIONS)
def test_irsa_trust_is_the_provider_with_sub_and_aud_string_equals(partition: str) -> None:
    recording = run_stack(partition=partition, program=lambda: build(partition, cluster_config()))
    issuer = issuer_of(recording)
    role = recording.one("aws:iam/role:Role", "pod-role")
    assert role.inputs["name"] == "poolside-acme-eks-pod-role"
    assert role.parent == recording.one("poolside:aws:IrsaRole", "pod").urn
    assert policy(role, "assumeRolePolicy") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ServiceAccountsOfThisCluster",
                "Effect": "Allow",
                "Principal": {"Federated": recording.stack_outputs["providerArn"]},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{issuer}:aud": "sts.amazonaws.com",
                        f"{issuer}:sub": [
                            "system:serviceaccount:poolside:poolside-api",
                            "system:serviceaccount:poolside:poolside-worker",
                        ],
                    }
                },
            }
        ],
    }


def test_pattern_service_account_uses_string_like_for_sub_only() -> None:
    document = json.loads(
        irsa_trust_policy(
            "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/X",
            "oidc.eks.us-east-1.amazonaws.com/id/X",
            ["poolside:poolside-*"],
        )
    )
    assert document["Statement"][0]["Condition"] == {
        "StringEquals": {"oidc.eks.us-east-1.amazonaws.com/id/X:aud": "sts.amazonaws.com"},
        "StringLike": {
            "oidc.eks.us-east-1.amazonaws.com/id/X:sub": "system:serviceaccount:poolside:poolside-*"
        },
    }


@pytest.mark.parametrize("account", ["poolside", ":name", "ns:"])
def test_malformed_service_accounts_are_refused(account: str) -> None:
    with pytest.raises(ValueError, match="must be '<namespace>:<name>'"):
        irsa_trust_policy("arn", "issuer", [account])


def test_existing_cluster_is_looked_up_and_creates_nothing_but_the_provider() -> None:
    config = cluster_config(existingClusterName="customer-eks")
    recording = run_stack(program=lambda: build("aws", config))
    assert recording.by_type("eks:index:Cluster") == []
    assert recording.by_type("eks:index:ManagedNodeGroup") == []
    assert {r.inputs["name"] for r in recording.by_type("aws:iam/role:Role")} == {
        "poolside-acme-eks-pod-role"
    }
    assert recording.stack_outputs["name"] == "customer-eks"
    assert recording.stack_outputs["endpoint"].endswith(".gr7.us-east-1.eks.amazonaws.com")
    assert len(recording.by_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")) == 1


def test_existing_provider_is_reused_not_created() -> None:
    config = cluster_config(existingClusterName="customer-eks")
    arn = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXISTING"
    recording = run_stack(program=lambda: build("aws", config, existing_provider=arn))
    assert recording.by_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    assert recording.stack_outputs["providerArn"] == arn
    trust = policy(recording.one("aws:iam/role:Role", "pod-role"), "assumeRolePolicy")
    assert trust["Statement"][0]["Principal"] == {"Federated": arn}


def test_trust_policy_size_stays_within_the_quota_for_many_service_accounts() -> None:
    issuer = "oidc.eks.us-gov-west-1.amazonaws.com/id/" + "A" * 32
    accounts = [f"poolside:service-account-{i:02d}" for i in range(20)]
    document = irsa_trust_policy(
        f"arn:aws-us-gov:iam::123456789012:oidc-provider/{issuer}", issuer, accounts
    )
    assert len(document) <= 2048


def test_coredns_is_created_after_the_node_groups_and_not_by_pulumi_eks() -> None:
    config = cluster_config(
        **{k: v for k, v in CLUSTER.items() if k != "nodeGroups"},
        nodeGroups=[{"name": "system"}, {"name": "arm", "instanceTypes": ["m7g.large"]}],
    )
    recording = run_stack(program=lambda: build("aws", config))
    eks = recording.one("eks:index:Cluster", "cluster-eks")
    assert eks.inputs["corednsAddonOptions"] == {"enabled": False}
    addon = recording.one("aws:eks/addon:Addon", "cluster-coredns")
    assert addon.inputs["addonName"] == "coredns"
    assert addon.inputs["clusterName"] == "poolside-acme"
    groups = recording.by_type("eks:index:ManagedNodeGroup")
    assert {g.urn for g in groups} <= set(addon.dependencies)
    arm = recording.one("eks:index:ManagedNodeGroup", "cluster-arm")
    assert arm.inputs["amiType"] == "AL2023_ARM_64_STANDARD"
