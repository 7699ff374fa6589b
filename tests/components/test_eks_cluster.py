"""The cluster, its OIDC provider and the IRSA roles: exact trust policies and exact wiring."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest
from google.protobuf import json_format

from components.eks_cluster import EksCluster, EksClusterArgs, look_up_cluster
from components.iam_role import IamRole, IamRoleArgs
from components.oidc_provider import OidcProvider, OidcProviderArgs
from offline_preview.engine import Recording, RecordingMonitor
from offline_preview.mocks import PoolsideMocks
from policies.trust import irsa_trust, irsa_trust_document
from stack_config import parse_stack_config
from tests.support.harness import (
    ACCOUNT_ID,
    CLUSTER,
    PARTITIONS,
    REGIONS,
    environment,
    policy,
    run_stack,
)

EXISTING_VPC_ID = "vpc-0fedcba9876543210"
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
            kms_key_arn=KEY_ARN,
            cluster_role_name="poolside-acme-eks-cluster-role",
            node_role_name="poolside-acme-eks-node-role",
            policy_name_prefix="poolside-acme",
            existing=(
                look_up_cluster(cluster.existing_cluster_name)
                if cluster.existing_cluster_name
                else None
            ),
            kubernetes_version=cluster.kubernetes_version,
            vpc_id=cluster.vpc_id,
            private_subnet_ids=cluster.private_subnet_ids,
            public_subnet_ids=cluster.public_subnet_ids,
            endpoint_public_access=cluster.endpoint_public_access,
            public_access_cidrs=cluster.public_access_cidrs,
            authentication_mode=cluster.authentication_mode,
            enabled_log_types=cluster.enabled_log_types,
            tags={"poolside:deployment": "acme"},
        ),
    )
    oidc = OidcProvider(
        "oidc",
        OidcProviderArgs(issuer_url=eks.oidc_issuer_url, existing_provider_arn=existing_provider),
    )
    role = IamRole(
        "pod",
        IamRoleArgs(
            role_name="poolside-acme-eks-pod-role",
            trust_policy=irsa_trust(
                oidc.arn, oidc.issuer, ["poolside:poolside-api", "poolside:poolside-worker"]
            ),
            description="test",
            policy_name_prefix="poolside-acme",
        ),
    )
    pulumi.export("name", eks.name)
    pulumi.export("endpoint", eks.endpoint)
    pulumi.export("vpcId", eks.vpc_id)
    pulumi.export("issuerUrl", oidc.issuer_url)
    pulumi.export("issuer", oidc.issuer)
    pulumi.export("providerArn", oidc.arn)
    pulumi.export("roleArn", role.arn)


def issuer_of(recording: Recording) -> str:
    return str(recording.stack_outputs["issuer"])


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
    assert eks.inputs["encryptionConfigKeyArn"] == KEY_ARN
    assert eks.inputs["createOidcProvider"] is False
    assert eks.inputs["skipDefaultNodeGroup"] is True
    assert eks.inputs["nodeAssociatePublicIpAddress"] is False
    # pulumi-eks installs no VPC CNI of its own: NodeGroups manages the add-on with its IRSA role.
    assert eks.inputs["useDefaultVpcCni"] is True
    assert eks.inputs["corednsAddonOptions"] == {"enabled": False}
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
    assert role.parent == recording.one("poolside:aws:IamRole", "pod").urn
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
    document = irsa_trust_document(
        "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/X",
        "oidc.eks.us-east-1.amazonaws.com/id/X",
        ["poolside:poolside-*"],
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
        irsa_trust_document("arn", "issuer", [account])
    with pytest.raises(ValueError, match="must be '<namespace>:<name>'"):
        irsa_trust("arn", "issuer", [account])  # refused before the provider is known


def test_existing_cluster_is_looked_up_and_creates_nothing_but_the_provider() -> None:
    config = cluster_config(existingClusterName="customer-eks")
    # What `eks.get_cluster` reports of the customer's cluster: its VPC comes from there.
    mocks = PoolsideMocks(
        environment("aws"),
        cluster_overrides={
            "customer-eks": {
                "vpcConfig": {
                    "clusterSecurityGroupId": "sg-0aaaabbbbccccdddd",
                    "vpcId": EXISTING_VPC_ID,
                }
            }
        },
    )
    recording = run_stack(program=lambda: build("aws", config), mocks=mocks)
    assert recording.by_type("eks:index:Cluster") == []
    assert recording.by_type("eks:index:ManagedNodeGroup") == []
    assert {r.inputs["name"] for r in recording.by_type("aws:iam/role:Role")} == {
        "poolside-acme-eks-pod-role"
    }
    assert recording.stack_outputs["name"] == "customer-eks"
    assert recording.stack_outputs["endpoint"].endswith(".gr7.us-east-1.eks.amazonaws.com")
    assert recording.stack_outputs["vpcId"] == EXISTING_VPC_ID
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
    document = irsa_trust_document(
        f"arn:aws-us-gov:iam::123456789012:oidc-provider/{issuer}", issuer, accounts
    )
    assert len(json.dumps(document, separators=(",", ":"))) <= 2048


# -- the whole program: the VPC CNI's IRSA role, launch templates, node groups and add-ons -----

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
    aliases: dict[str, list[dict[str, Any]]]
    """URN -> the alias specs of its registration (the recording does not keep them)."""


@pytest.fixture(scope="module", params=PARTITIONS)
def program(request: pytest.FixtureRequest) -> ProgramRun:
    """The whole program creating a cluster with three node groups, and the aliases it sent."""
    partition: str = request.param
    aliases: dict[str, list[dict[str, Any]]] = {}
    original = RecordingMonitor.RegisterResource

    def register(self: RecordingMonitor, message: Any) -> Any:
        response = original(self, message)
        aliases[response.urn] = [json_format.MessageToDict(a) for a in message.aliases]
        return response

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RecordingMonitor, "RegisterResource", register)
        recording = run_stack(
            {
                "tags": TAGS,
                # not the default 1.34: the groups must follow the cluster's own version
                "cluster": {**CLUSTER, "nodeGroups": NODE_GROUPS, "kubernetesVersion": "1.33"},
            },
            partition=partition,
        )
    return ProgramRun(partition, recording, aliases)


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
    assert policy(role, "assumeRolePolicy") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ServiceAccountsOfThisCluster",
                "Effect": "Allow",
                "Principal": {
                    "Federated": f"arn:{partition}:iam::{ACCOUNT_ID}:oidc-provider/{issuer}"
                },
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{issuer}:aud": "sts.amazonaws.com",
                        f"{issuer}:sub": "system:serviceaccount:kube-system:aws-node",
                    }
                },
            }
        ],
    }
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
        "serviceAccountRoleArn": role.outputs["arn"],
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
    inner = recording.one("aws:eks/cluster:Cluster", "poolside-acme")
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
    inner = recording.one("aws:eks/cluster:Cluster", "poolside-acme")
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
            kube_proxy.urn,
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
    aliases = {r.name: program.aliases[r.urn] for r in recording.resources if r.parent == nodes.urn}
    assert aliases == {
        "cluster-vpc-cni": [],
        "cluster-kube-proxy": [],  # new: pulumi-eks's own was inside its Cluster component
        "cluster-aws-ebs-csi-driver": [],  # new
        **{f"cluster-{group}-launch-template": [] for group in DISK_SIZE_GIB},
        **{f"cluster-{group}": moved for group in DISK_SIZE_GIB},
        "cluster-coredns": moved,
    }
    assert program.aliases[nodes.urn] == []


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
