"""The EKS cluster, created or existing: exact inputs, its roles and what it creates (nothing else)."""

from __future__ import annotations

import pytest

from tests.support.cluster import EXISTING_VPC_ID, build, cluster_config
from tests.support.harness import (
    CLUSTER,
    KEY_ARN,
    PARTITIONS,
    run_stack,
)
from tests.support.policies import policy

EC2 = {
    "aws": "ec2.amazonaws.com",
    "aws-us-gov": "ec2.amazonaws.com",
    "aws-cn": "ec2.amazonaws.com.cn",
}


@pytest.mark.parametrize("partition", PARTITIONS)
def test_created_cluster_is_private_encrypted_and_uses_our_roles(partition: str) -> None:
    recording = run_stack(partition=partition, program=lambda: build(partition, cluster_config()))
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
    assert eks.inputs["encryptionConfigKeyArn"] == KEY_ARN["aws"]
    assert eks.inputs["createOidcProvider"] is False
    assert eks.inputs["skipDefaultNodeGroup"] is True
    assert eks.inputs["nodeAssociatePublicIpAddress"] is False
    # pulumi-eks installs no VPC CNI of its own: NodeGroups manages the add-on with its IRSA role.
    assert eks.inputs["useDefaultVpcCni"] is True
    assert eks.inputs["corednsAddonOptions"] == {"enabled": False}
    assert eks.inputs["kubeProxyAddonOptions"] == {"enabled": False}
    # No pulumi-eks security groups: managed nodes and the control plane share EKS's own.
    assert eks.inputs["skipDefaultSecurityGroups"] is True
    # The component's default is EKS's: the deployment decides (see the whole-program tests).
    assert eks.inputs["bootstrapSelfManagedAddons"] is True
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
    # No AmazonEKS_CNI_Policy on the node role: the VPC CNI has its own IRSA role.
    assert attachments == {
        ("poolside-acme-eks-cluster-role", managed + "AmazonEKSClusterPolicy"),
        ("poolside-acme-eks-node-role", managed + "AmazonEKSWorkerNodePolicy"),
        ("poolside-acme-eks-node-role", managed + "AmazonEC2ContainerRegistryReadOnly"),
    }
    # The cluster component creates no nodes and no add-ons: NodeGroups does (deployment.py).
    assert recording.by_type("eks:index:ManagedNodeGroup") == []
    assert recording.by_type("aws:eks/addon:Addon") == []
    assert recording.by_type("aws:ec2/launchTemplate:LaunchTemplate") == []
    assert recording.stack_outputs["vpcId"] == CLUSTER["vpcId"]


def test_public_endpoint_carries_the_allowlist() -> None:
    config = cluster_config(
        **CLUSTER, endpointPublicAccess=True, publicAccessCidrs=["203.0.113.0/24"]
    )
    recording = run_stack(program=lambda: build("aws", config))
    eks = recording.one("eks:index:Cluster", "cluster-eks")
    assert eks.inputs["endpointPublicAccess"] is True
    assert eks.inputs["publicAccessCidrs"] == ["203.0.113.0/24"]


def test_existing_cluster_is_looked_up_and_creates_nothing_but_the_provider() -> None:
    config = cluster_config(existingClusterName="customer-eks")
    # What `eks.get_cluster` reports of the customer's cluster: its VPC comes from there.
    overrides = {
        "customer-eks": {
            "vpcConfig": {
                "clusterSecurityGroupId": "sg-0aaaabbbbccccdddd",
                "vpcId": EXISTING_VPC_ID,
            }
        }
    }
    recording = run_stack(program=lambda: build("aws", config), cluster_overrides=overrides)
    assert recording.by_type("eks:index:Cluster") == []
    assert recording.by_type("eks:index:ManagedNodeGroup") == []
    assert {r.inputs["name"] for r in recording.by_type("aws:iam/role:Role")} == {
        "poolside-acme-eks-pod-role"
    }
    assert recording.stack_outputs["name"] == "customer-eks"
    assert recording.stack_outputs["endpoint"].endswith(".gr7.us-east-1.eks.amazonaws.com")
    assert recording.stack_outputs["vpcId"] == EXISTING_VPC_ID
    assert len(recording.by_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")) == 1


def test_eks_installs_no_addons_of_its_own_while_the_program_manages_all_three() -> None:
    """`vpc-cni`, `kube-proxy` and `coredns` are the program's add-ons by default, so EKS bootstraps
    no self-managed copies; a stack that leaves one out gets EKS's copies, and so still a pod
    network, Service routing and DNS."""
    default = run_stack().one("eks:index:Cluster", "cluster-eks")
    assert default.inputs["bootstrapSelfManagedAddons"] is False
    for addon in ("vpcCni", "kubeProxy", "coredns"):
        without = run_stack({"addons": {addon: {"enabled": False}}})
        eks = without.one("eks:index:Cluster", "cluster-eks")
        assert eks.inputs["bootstrapSelfManagedAddons"] is True, addon
    # The other add-ons are no business of EKS's bootstrap.
    no_ebs = run_stack({"addons": {"ebsCsiDriver": {"enabled": False}}})
    eks = no_ebs.one("eks:index:Cluster", "cluster-eks")
    assert eks.inputs["bootstrapSelfManagedAddons"] is False


# -- the whole program: the VPC CNI's IRSA role, launch templates, node groups and add-ons -----
