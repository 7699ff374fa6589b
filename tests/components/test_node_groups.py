"""The whole program: the VPC CNI's IRSA role, launch templates, node groups and add-ons, in order."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from offline_preview.engine import Recording
from tests.support.cluster import SUFFIX
from tests.support.harness import ACCOUNT_ID, CLUSTER, PARTITIONS, REGIONS, run_stack
from tests.support.policies import irsa_trust, policy

NODE_GROUPS: list[dict[str, Any]] = [
    {"name": "system", "minSize": 2, "desiredSize": 2, "maxSize": 4, "diskSizeGib": 250},
    {
        "name": "gpu",
        "gpu": True,
        "instanceTypes": ["g6e.12xlarge"],
        "minSize": 0,
        "desiredSize": 1,
        "maxSize": 2,
        "diskSizeGib": 900,
        "labels": {"poolside.ai/workload": "inference"},
        "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}],
    },
    {"name": "arm", "instanceTypes": ["m7g.large"]},
]


# The root volume of each group: arm keeps the default.
DISK_SIZE_GIB = {"system": 250, "gpu": 900, "arm": 100}


AMI_TYPE = {
    "system": "AL2023_x86_64_STANDARD",
    "gpu": "AL2023_x86_64_NVIDIA",
    "arm": "AL2023_ARM_64_STANDARD",
}


TAGS = {"owner": "platform"}


MERGED_TAGS = {"owner": "platform", "poolside:deployment": "acme"}


VPC_CNI_ROLE = "poolside-acme-eks-vpc-cni-role"


@dataclass(frozen=True)
class ProgramRun:
    partition: str
    recording: Recording


@pytest.fixture(scope="module", params=PARTITIONS)
def program(request: pytest.FixtureRequest) -> ProgramRun:
    """The whole program creating a cluster with three node groups."""
    partition: str = request.param
    recording = run_stack(
        {
            "tags": TAGS,
            # not the default 1.34: the groups must follow the cluster's own version
            "cluster": {**CLUSTER, "nodeGroups": NODE_GROUPS, "kubernetesVersion": "1.33"},
        },
        partition=partition,
    )
    return ProgramRun(partition, recording)


def test_vpc_cni_role_trusts_only_aws_node_and_holds_only_the_cni_policy(
    program: ProgramRun,
) -> None:
    partition, recording = program.partition, program.recording
    component = recording.one("poolside:aws:IamRole", "vpc-cni")
    role = recording.one("aws:iam/role:Role", "vpc-cni-role")
    assert role.parent == component.urn
    assert role.inputs["name"] == VPC_CNI_ROLE
    provider = recording.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "oidc-provider")
    issuer = provider.inputs["url"].removeprefix("https://")
    assert issuer.startswith(f"oidc.eks.{REGIONS[partition]}.{SUFFIX[partition]}/id/")
    assert policy(role, "assumeRolePolicy") == irsa_trust(
        partition, issuer, ["system:serviceaccount:kube-system:aws-node"]
    )
    attached = {
        a.inputs["policyArn"]
        for a in recording.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == VPC_CNI_ROLE
    }
    assert attached == {f"arn:{partition}:iam::aws:policy/AmazonEKS_CNI_Policy"}
    # The AWS-managed policy only: no customer-managed policy of its own.
    assert [
        p for p in recording.by_type("aws:iam/policy:Policy") if p.parent == component.urn
    ] == []
    arn = f"arn:{partition}:iam::{ACCOUNT_ID}:role/{VPC_CNI_ROLE}"
    assert role.outputs["arn"] == arn
    assert recording.stack_outputs["vpcCniRoleArn"] == arn


def test_vpc_cni_addon_runs_with_its_irsa_role(program: ProgramRun) -> None:
    recording = program.recording
    nodes = recording.one("poolside:aws:NodeGroups", "cluster")
    stack = recording.one("pulumi:pulumi:Stack", "poolside-test")
    assert nodes.parent == stack.urn
    role = recording.one("aws:iam/role:Role", "vpc-cni-role")
    addon = recording.one("aws:eks/addon:Addon", "cluster-vpc-cni")
    assert addon.parent == nodes.urn
    assert addon.inputs == {
        "clusterName": "poolside-acme",
        "addonName": "vpc-cni",
        "addonVersion": "v1.20.4-eksbuild.1",  # the newest for the cluster's version (mocks)
        "serviceAccountRoleArn": f"arn:{program.partition}:iam::{ACCOUNT_ID}:role/{VPC_CNI_ROLE}",
        "resolveConflictsOnCreate": "OVERWRITE",
        "resolveConflictsOnUpdate": "PRESERVE",
        "tags": MERGED_TAGS,
    }
    assert addon.property_dependencies["serviceAccountRoleArn"] == [role.urn]


def test_every_node_group_has_a_launch_template_with_hop_limit_1_and_its_disk(
    program: ProgramRun,
) -> None:
    recording = program.recording
    nodes = recording.one("poolside:aws:NodeGroups", "cluster")
    templates = {t.name: t for t in recording.by_type("aws:ec2/launchTemplate:LaunchTemplate")}
    assert set(templates) == {f"cluster-{group}-launch-template" for group in DISK_SIZE_GIB}
    for group, size in DISK_SIZE_GIB.items():
        template = templates[f"cluster-{group}-launch-template"]
        assert template.parent == nodes.urn
        assert template.inputs == {
            "description": f"Poolside node group {group}: IMDSv2, hop limit 1, encrypted root",
            "metadataOptions": {
                "httpEndpoint": "enabled",
                "httpTokens": "required",
                "httpPutResponseHopLimit": 1,
                "instanceMetadataTags": "disabled",
            },
            "blockDeviceMappings": [
                {
                    "deviceName": "/dev/xvda",
                    "ebs": {
                        "volumeSize": size,
                        "volumeType": "gp3",
                        "encrypted": "true",
                        "deleteOnTermination": "true",
                    },
                }
            ],
            "tagSpecifications": [
                {"resourceType": "instance", "tags": MERGED_TAGS},
                {"resourceType": "volume", "tags": MERGED_TAGS},
            ],
            "updateDefaultVersion": True,
            "tags": MERGED_TAGS,
        }, group


def test_each_node_group_uses_its_own_launch_template(program: ProgramRun) -> None:
    recording = program.recording
    nodes = recording.one("poolside:aws:NodeGroups", "cluster")
    eks = recording.one("eks:index:Cluster", "cluster-eks")
    inner = recording.one("aws:eks/cluster:Cluster", "cluster-eks-eksCluster")
    assert inner.outputs["version"] == "1.33"
    node_role = recording.one("aws:iam/role:Role", "cluster-node-role")
    template_ids = set()
    for group in DISK_SIZE_GIB:
        node_group = recording.one("eks:index:ManagedNodeGroup", f"cluster-{group}")
        template = recording.one(
            "aws:ec2/launchTemplate:LaunchTemplate", f"cluster-{group}-launch-template"
        )
        assert re.fullmatch(r"lt-[0-9a-f]{17}", template.id)
        template_ids.add(template.id)
        assert node_group.parent == nodes.urn
        assert node_group.inputs["launchTemplate"] == {"id": template.id, "version": "1"}
        assert node_group.property_dependencies["launchTemplate"] == [template.urn]
        # EKS refuses a node group disk size beside a launch template; IMDS is the template's.
        assert "diskSize" not in node_group.inputs
        assert "enableIMDSv2" not in node_group.inputs
        assert node_group.inputs["amiType"] == AMI_TYPE[group]
        assert node_group.inputs["nodeGroupName"] == f"poolside-acme-{group}"
        assert node_group.inputs["version"] == "1.33"
        assert set(node_group.property_dependencies["version"]) == {eks.urn, inner.urn}
    assert len(template_ids) == len(DISK_SIZE_GIB)
    gpu = recording.one("eks:index:ManagedNodeGroup", "cluster-gpu")
    gpu_template = recording.one(
        "aws:ec2/launchTemplate:LaunchTemplate", "cluster-gpu-launch-template"
    )
    assert gpu.inputs == {
        "cluster": eks.urn,
        "nodeRole": node_role.urn,
        "nodeGroupName": "poolside-acme-gpu",
        # pulumi-eks fills `version` from the cluster only without a launch template
        "version": "1.33",
        "subnetIds": CLUSTER["privateSubnetIds"],
        "instanceTypes": ["g6e.12xlarge"],
        "amiType": "AL2023_x86_64_NVIDIA",
        "launchTemplate": {"id": gpu_template.id, "version": "1"},
        "scalingConfig": {"minSize": 0, "desiredSize": 1, "maxSize": 2},
        "ignoreScalingChanges": True,
        "labels": {"poolside.ai/workload": "inference"},
        "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}],
        "tags": MERGED_TAGS,
    }


def test_vpc_cni_then_node_groups_then_coredns(program: ProgramRun) -> None:
    recording = program.recording
    nodes = recording.one("poolside:aws:NodeGroups", "cluster")
    eks = recording.one("eks:index:Cluster", "cluster-eks")
    inner = recording.one("aws:eks/cluster:Cluster", "cluster-eks-eksCluster")
    role = recording.one("aws:iam/role:Role", "vpc-cni-role")
    role_component = recording.one("poolside:aws:IamRole", "vpc-cni")
    [attachment] = [
        r
        for r in recording.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.parent == role_component.urn
    ]
    vpc_cni = recording.one("aws:eks/addon:Addon", "cluster-vpc-cni")
    # The add-on waits for the CNI policy's attachment, not only for the role.
    assert set(vpc_cni.dependencies) == {eks.urn, inner.urn, role.urn, attachment.urn}
    # Nodes join once their role can (the IamRole component: the role and every attachment)
    # and once the CNI runs.
    node_role_component = recording.one("poolside:aws:IamRole", "cluster-node")
    node_role_parts = {r.urn for r in recording.resources if r.parent == node_role_component.urn}
    assert len(node_role_parts) == 3  # the role and its two attachments
    groups = recording.by_type("eks:index:ManagedNodeGroup")
    assert {g.name for g in groups} == {f"cluster-{group}" for group in DISK_SIZE_GIB}
    kube_proxy = recording.one("aws:eks/addon:Addon", "cluster-kube-proxy")
    for group in groups:
        template = recording.one(
            "aws:ec2/launchTemplate:LaunchTemplate", f"{group.name}-launch-template"
        )
        assert vpc_cni.urn in group.dependencies
        # ... and the cluster's version (the component and its inner cluster)
        assert set(group.dependencies) == node_role_parts | {
            vpc_cni.urn,
            kube_proxy.urn,  # before the nodes too, like the CNI
            template.urn,
            eks.urn,
            inner.urn,
        }
    coredns = recording.one("aws:eks/addon:Addon", "cluster-coredns")
    assert coredns.parent == nodes.urn
    assert coredns.inputs == {
        "clusterName": "poolside-acme",
        "addonName": "coredns",
        "addonVersion": "v1.12.4-eksbuild.1",
        "resolveConflictsOnCreate": "OVERWRITE",
        "resolveConflictsOnUpdate": "PRESERVE",
        "tags": MERGED_TAGS,
    }
    assert {g.urn for g in groups} <= set(coredns.dependencies)
    assert set(coredns.dependencies) == {g.urn for g in groups} | {eks.urn, inner.urn}
    assert eks.inputs["corednsAddonOptions"] == {"enabled": False}
    assert eks.inputs["useDefaultVpcCni"] is True


def test_node_groups_and_coredns_keep_their_place_through_an_alias(program: ProgramRun) -> None:
    """They were children of the EksCluster component: the alias keeps their URNs on update."""
    recording = program.recording
    nodes = recording.one("poolside:aws:NodeGroups", "cluster")
    previous_parent = recording.one("poolside:aws:EksCluster", "cluster")
    moved = [{"spec": {"parentUrn": previous_parent.urn}}]
    aliases = {r.name: r.aliases for r in recording.resources if r.parent == nodes.urn}
    assert aliases == {
        "cluster-vpc-cni": [],
        "cluster-kube-proxy": [],  # new: pulumi-eks's own was inside its Cluster component
        "cluster-aws-ebs-csi-driver": [],  # new
        **{f"cluster-{group}-launch-template": [] for group in DISK_SIZE_GIB},
        **{f"cluster-{group}": moved for group in DISK_SIZE_GIB},
        "cluster-coredns": moved,
    }
    assert nodes.aliases == []


def test_node_role_never_holds_the_cni_policy(program: ProgramRun) -> None:
    partition, recording = program.partition, program.recording
    managed = f"arn:{partition}:iam::aws:policy/"
    node_role = {
        a.inputs["policyArn"]
        for a in recording.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == "poolside-acme-eks-node-role"
    }
    assert node_role == {
        managed + "AmazonEKSWorkerNodePolicy",
        managed + "AmazonEC2ContainerRegistryReadOnly",
    }
    holders = {
        a.inputs["role"]
        for a in recording.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["policyArn"] == managed + "AmazonEKS_CNI_Policy"
    }
    assert holders == {VPC_CNI_ROLE}


def test_existing_cluster_gets_no_vpc_cni_role_add_ons_templates_or_node_groups() -> None:
    recording = run_stack(
        {
            "cluster": {"existingClusterName": "customer-eks"},
            "bastion": {"subnetId": "subnet-0123456789abcdef0"},
        }
    )
    assert recording.by_type("poolside:aws:NodeGroups") == []
    assert recording.by_type("aws:eks/addon:Addon") == []
    assert recording.by_type("aws:ec2/launchTemplate:LaunchTemplate") == []
    assert recording.by_type("eks:index:ManagedNodeGroup") == []
    assert [r for r in recording.by_type("poolside:aws:IamRole") if r.name == "vpc-cni"] == []
    assert {r.inputs["name"] for r in recording.by_type("aws:iam/role:Role")} == {
        "poolside-acme-eks-pod-role",
        "poolside-acme-eks-inference-role",
        "poolside-acme-bedrock-customization-role",
        "poolside-acme-aws-load-balancer-controller",
        "poolside-acme-bastion-role",
    }
    assert not any(
        a.inputs["policyArn"].endswith("/AmazonEKS_CNI_Policy")
        for a in recording.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    )
    assert "vpcCniRoleArn" not in recording.stack_outputs
