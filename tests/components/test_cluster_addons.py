"""The managed add-ons (`poolside:addons`): which exist, their versions, their order around the
node groups, their IRSA roles, and the add-ons of an existing cluster when asked for."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.cluster_addons import (
    ADDON_NAMES,
    AFTER_NODES,
    BEFORE_NODES,
    AddonSpec,
)
from components.replacement import DELETE_FIRST, REPLACEMENT
from offline_preview.engine import RecordedResource, Recording
from offline_preview.mocks import EXISTING_CLUSTER_VERSION, PoolsideMocks, addon_version
from policies.ebs_csi_driver import KMS_GRANT_ACTIONS, KMS_VOLUME_KEY_ACTIONS
from tests.support.harness import (
    ACCOUNT_ID,
    CLUSTER,
    PARTITIONS,
    REGIONS,
    StackRun,
    environment,
    record_stack,
    run_stack,
)
from tests.support.policies import policy

ADDON_VERSION_LOOKUP = "aws:eks/getAddonVersion:getAddonVersion"


def lookups(run: StackRun) -> list[dict[str, Any]]:
    """The add-on version look-ups a run made, by their arguments."""
    return [args for token, args in run.calls if token == ADDON_VERSION_LOOKUP]


ADDON = "aws:eks/addon:Addon"
ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
NODE_GROUP = "eks:index:ManagedNodeGroup"
TAGS = {"poolside:deployment": "acme"}
EBS_CSI_ROLE = "poolside-acme-eks-ebs-csi-role"
VPC_CNI_ROLE = "poolside-acme-eks-vpc-cni-role"
# Two node groups: every after-nodes add-on waits for both.
GROUPS = [{"name": "system"}, {"name": "gpu", "instanceTypes": ["g6e.xlarge"], "gpu": True}]
EXISTING = {
    "existingClusterName": "customer-eks",
    "privateSubnetIds": [CLUSTER["privateSubnetIds"][0]],
}
DEFAULT_ADDONS = {"vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver"}


def addons(recording: Recording) -> dict[str, RecordedResource]:
    """The recorded add-ons by EKS name."""
    return {r.inputs["addonName"]: r for r in recording.by_type(ADDON)}


def role_names(recording: Recording) -> set[str]:
    return {r.inputs["name"] for r in recording.by_type(ROLE)}


def attached(recording: Recording, role: str) -> set[str]:
    return {
        a.inputs["policyArn"] for a in recording.by_type(ATTACHMENT) if a.inputs["role"] == role
    }


def created(partition: str = "aws", /, **addons_config: Any) -> Recording:
    keys: dict[str, Any] = {"cluster": {**CLUSTER, "nodeGroups": GROUPS}}
    if addons_config:
        keys["addons"] = addons_config
    return run_stack(keys, partition=partition)


def existing(**addons_config: Any) -> tuple[Recording, StackRun]:
    keys: dict[str, Any] = {"cluster": EXISTING}
    if addons_config:
        keys["addons"] = addons_config
    run = record_stack(keys)
    return run.recording, run


@pytest.fixture(scope="module", params=PARTITIONS)
def default(request: pytest.FixtureRequest) -> tuple[str, Recording]:
    return request.param, created(request.param)


# ---------------------------------------------------------------------------------------------
# A created cluster, default settings


def test_the_four_default_add_ons_are_managed_with_resolved_versions(
    default: tuple[str, Recording],
) -> None:
    partition, recording = default
    found = addons(recording)
    assert set(found) == DEFAULT_ADDONS
    nodes = recording.one("poolside:aws:NodeGroups", "cluster")
    roles = {r.inputs["name"]: r.outputs["arn"] for r in recording.by_type(ROLE)}
    for name, addon in found.items():
        expected: dict[str, Any] = {
            "clusterName": "poolside-acme",
            "addonName": name,
            # the newest for the cluster's version (the default 1.34), as the mocks answer
            "addonVersion": addon_version(name, "1.34"),
            "resolveConflictsOnCreate": "OVERWRITE",
            "resolveConflictsOnUpdate": "PRESERVE",
            "tags": TAGS,
        }
        if name == "vpc-cni":
            expected["serviceAccountRoleArn"] = roles[VPC_CNI_ROLE]
        if name == "aws-ebs-csi-driver":
            expected["serviceAccountRoleArn"] = roles[EBS_CSI_ROLE]
        assert addon.inputs == expected, name
        assert addon.name == f"cluster-{name}"
        assert addon.parent == nodes.urn
        # one add-on of a name per cluster: a replacement deletes the old one first
        assert addon.delete_before_replace is True
        assert not addon.protect
    assert found["kube-proxy"].inputs["addonVersion"] == "v1.34.3-eksbuild.2"
    assert partition in roles[EBS_CSI_ROLE]


def test_pulumi_eks_creates_no_add_on_of_its_own(default: tuple[str, Recording]) -> None:
    _, recording = default
    eks = recording.one("eks:index:Cluster", "cluster-eks")
    assert eks.inputs["kubeProxyAddonOptions"] == {"enabled": False}
    assert eks.inputs["corednsAddonOptions"] == {"enabled": False}
    assert eks.inputs["useDefaultVpcCni"] is True


def test_cni_and_kube_proxy_before_the_nodes_the_rest_after(default: tuple[str, Recording]) -> None:
    _, recording = default
    found = addons(recording)
    groups = {g.urn for g in recording.by_type(NODE_GROUP)}
    assert len(groups) == 2
    for group in recording.by_type(NODE_GROUP):
        assert {found[name].urn for name in BEFORE_NODES} <= set(group.dependencies)
        assert not {found[name].urn for name in AFTER_NODES if name in found} & set(
            group.dependencies
        )
    for name in BEFORE_NODES:
        assert not groups & set(found[name].dependencies), name
    for name in ("coredns", "aws-ebs-csi-driver"):
        assert groups <= set(found[name].dependencies), name


def test_the_csi_driver_waits_for_every_policy_of_its_role(default: tuple[str, Recording]) -> None:
    _, recording = default
    component = recording.one("poolside:aws:IamRole", "ebs-csi")
    parts = {r.urn for r in recording.resources if r.parent == component.urn}
    assert len(parts) == 4  # the role, the KMS policy, and the two attachments
    driver = addons(recording)["aws-ebs-csi-driver"]
    assert parts <= set(driver.dependencies)
    role = recording.one(ROLE, "ebs-csi-role")
    assert driver.property_dependencies["serviceAccountRoleArn"] == [role.urn]


def test_each_unpinned_version_is_looked_up_for_the_clusters_version() -> None:
    run = record_stack({"cluster": {**CLUSTER, "kubernetesVersion": "1.33"}})
    assert sorted(lookups(run), key=lambda a: str(a["addonName"])) == [
        {"addonName": name, "kubernetesVersion": "1.33", "mostRecent": True}
        for name in sorted(DEFAULT_ADDONS)
    ]


# ---------------------------------------------------------------------------------------------
# Non-default settings on a created cluster


def test_a_pinned_version_reaches_the_add_on_and_is_not_looked_up() -> None:
    run = record_stack(
        {
            "addons": {
                "vpcCni": {"version": "v1.19.0-eksbuild.1"},
                "coredns": {"version": "v1.11.4-eksbuild.2"},
            }
        }
    )
    found = addons(run.recording)
    assert found["vpc-cni"].inputs["addonVersion"] == "v1.19.0-eksbuild.1"
    assert found["coredns"].inputs["addonVersion"] == "v1.11.4-eksbuild.2"
    assert found["kube-proxy"].inputs["addonVersion"] == "v1.34.3-eksbuild.2"  # still resolved
    assert {args["addonName"] for args in lookups(run)} == {"kube-proxy", "aws-ebs-csi-driver"}


def test_the_optional_add_ons_come_after_the_nodes_when_enabled() -> None:
    recording = created(
        metricsServer={"enabled": True},
        snapshotController={"enabled": True, "version": "v8.2.0-eksbuild.1"},
    )
    found = addons(recording)
    assert set(found) == DEFAULT_ADDONS | {"metrics-server", "snapshot-controller"}
    groups = {g.urn for g in recording.by_type(NODE_GROUP)}
    metrics, snapshots = found["metrics-server"], found["snapshot-controller"]
    assert metrics.inputs["addonVersion"] == "v0.8.0-eksbuild.2"
    assert snapshots.inputs["addonVersion"] == "v8.2.0-eksbuild.1"
    for addon in (metrics, snapshots):
        assert groups <= set(addon.dependencies)
        assert "serviceAccountRoleArn" not in addon.inputs
        assert addon.delete_before_replace is True
    # no role for them: they call no AWS API
    assert role_names(recording) == role_names(created())


def test_an_add_on_switched_off_leaves_no_resource() -> None:
    recording = created(coredns={"enabled": False}, kubeProxy={"enabled": False})
    assert set(addons(recording)) == {"vpc-cni", "aws-ebs-csi-driver"}
    assert [
        r for r in recording.resources if r.name in ("cluster-coredns", "cluster-kube-proxy")
    ] == []
    cni = addons(recording)["vpc-cni"]
    for group in recording.by_type(NODE_GROUP):
        assert cni.urn in group.dependencies


def test_without_the_cni_add_on_there_is_no_cni_role() -> None:
    recording = created(vpcCni={"enabled": False})
    assert "vpc-cni" not in addons(recording)
    assert VPC_CNI_ROLE not in role_names(recording)
    assert not any(
        a.inputs["policyArn"].endswith("/AmazonEKS_CNI_Policy")
        for a in recording.by_type(ATTACHMENT)
    )
    assert "vpcCniRoleArn" not in recording.stack_outputs
    kube_proxy = addons(recording)["kube-proxy"]
    for group in recording.by_type(NODE_GROUP):
        assert kube_proxy.urn in group.dependencies


def test_without_the_csi_driver_there_is_no_csi_role_or_key_policy() -> None:
    recording = created(ebsCsiDriver={"enabled": False})
    assert "aws-ebs-csi-driver" not in addons(recording)
    assert EBS_CSI_ROLE not in role_names(recording)
    assert "poolside-acme-ebs-csi-kms" not in {p.inputs["name"] for p in recording.by_type(POLICY)}
    assert "ebsCsiDriverRoleArn" not in recording.stack_outputs
    reads = bastion_iam_reads(recording)
    assert not any("ebs-csi" in arn for arn in reads)


def test_every_add_on_switched_off_leaves_the_node_groups_alone() -> None:
    recording = created(
        **{key: {"enabled": False} for key in ("vpcCni", "kubeProxy", "coredns", "ebsCsiDriver")}
    )
    assert recording.by_type(ADDON) == []
    assert len(recording.by_type(NODE_GROUP)) == 2
    assert VPC_CNI_ROLE not in role_names(recording)
    assert EBS_CSI_ROLE not in role_names(recording)


# ---------------------------------------------------------------------------------------------
# The EBS CSI driver's role


@pytest.mark.parametrize("partition", PARTITIONS)
def test_csi_role_trusts_only_the_controller_and_holds_exactly_its_policies(
    partition: str,
) -> None:
    recording = created(partition)
    role = recording.one(ROLE, "ebs-csi-role")
    assert role.inputs["name"] == EBS_CSI_ROLE
    provider = recording.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "oidc-provider")
    issuer = provider.inputs["url"].removeprefix("https://")
    assert policy(role, "assumeRolePolicy")["Statement"] == [
        {
            "Sid": "ServiceAccountsOfThisCluster",
            "Effect": "Allow",
            "Principal": {"Federated": provider.outputs["arn"]},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{issuer}:aud": "sts.amazonaws.com",
                    f"{issuer}:sub": "system:serviceaccount:kube-system:ebs-csi-controller-sa",
                }
            },
        }
    ]
    kms = recording.one(POLICY, "ebs-csi-ebs-csi-kms")
    assert kms.inputs["name"] == "poolside-acme-ebs-csi-kms"
    assert attached(recording, EBS_CSI_ROLE) == {
        f"arn:{partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
        kms.outputs["arn"],
    }
    key_arn = recording.one("aws:kms/key:Key", "kms-key").outputs["arn"]
    assert key_arn.startswith(f"arn:{partition}:kms:{REGIONS[partition]}:{ACCOUNT_ID}:key/")
    assert policy(kms) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GrantsForEncryptedVolumes",
                "Effect": "Allow",
                "Action": list(KMS_GRANT_ACTIONS),
                "Resource": [key_arn],
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
            {
                "Sid": "DataKeysOfEncryptedVolumes",
                "Effect": "Allow",
                "Action": list(KMS_VOLUME_KEY_ACTIONS),
                "Resource": [key_arn],
            },
        ],
    }
    arn = f"arn:{partition}:iam::{ACCOUNT_ID}:role/{EBS_CSI_ROLE}"
    assert recording.stack_outputs["ebsCsiDriverRoleArn"] == arn
    # EKS annotates the controller's service account itself: not among the Poolside ones.
    assert (
        "kube-system:ebs-csi-controller-sa"
        not in recording.stack_outputs["serviceAccountAnnotations"]
    )


def bastion_iam_reads(recording: Recording) -> list[str]:
    """The role and policy ARNs the bastion may read."""
    [read] = [
        p for p in recording.by_type(POLICY) if p.inputs["name"].endswith("-default-iam-read")
    ]
    statements = {s["Sid"]: s for s in json.loads(read.inputs["policy"])["Statement"]}
    return [
        *statements["ReadDeploymentRoles"]["Resource"],
        *statements["ReadDeploymentPolicies"]["Resource"],
    ]


def test_the_bastion_may_read_the_csi_role_and_its_policy(default: tuple[str, Recording]) -> None:
    _, recording = default
    reads = bastion_iam_reads(recording)
    assert recording.one(ROLE, "ebs-csi-role").outputs["arn"] in reads
    assert recording.one(POLICY, "ebs-csi-ebs-csi-kms").outputs["arn"] in reads


# ---------------------------------------------------------------------------------------------
# An existing cluster


def test_an_existing_clusters_add_ons_are_left_alone_by_default() -> None:
    recording, run = existing()
    assert recording.by_type(ADDON) == []
    assert recording.by_type("poolside:aws:ClusterAddons") == []
    assert not role_names(recording) & {VPC_CNI_ROLE, EBS_CSI_ROLE}
    assert lookups(run) == []


def test_an_existing_cluster_gets_its_add_ons_and_their_roles_when_asked() -> None:
    recording, _ = existing(manageOnExistingCluster=True)
    component = recording.one("poolside:aws:ClusterAddons", "cluster")
    stack = recording.one("pulumi:pulumi:Stack", "poolside-test")
    assert component.parent == stack.urn
    found = addons(recording)
    assert set(found) == DEFAULT_ADDONS
    roles = {r.inputs["name"]: r.outputs["arn"] for r in recording.by_type(ROLE)}
    for name, addon in found.items():
        assert addon.name == f"cluster-{name}"
        assert addon.parent == component.urn
        assert addon.inputs["clusterName"] == "customer-eks"
        assert addon.inputs["addonVersion"] == addon_version(name, EXISTING_CLUSTER_VERSION)
        assert addon.delete_before_replace is True
    assert found["vpc-cni"].inputs["serviceAccountRoleArn"] == roles[VPC_CNI_ROLE]
    assert found["aws-ebs-csi-driver"].inputs["serviceAccountRoleArn"] == roles[EBS_CSI_ROLE]
    # no nodes of the program's, and nothing to order against
    assert recording.by_type(NODE_GROUP) == []
    assert recording.by_type("aws:ec2/launchTemplate:LaunchTemplate") == []
    assert recording.by_type("poolside:aws:NodeGroups") == []
    # the roles trust the existing cluster's issuer
    issuer = PoolsideMocks(environment("aws")).oidc_issuer("customer-eks")
    role = recording.one(ROLE, "ebs-csi-role")
    condition = policy(role, "assumeRolePolicy")["Statement"][0]["Condition"]["StringEquals"]
    assert condition[f"{issuer.removeprefix('https://')}:sub"] == (
        "system:serviceaccount:kube-system:ebs-csi-controller-sa"
    )
    assert recording.stack_outputs["vpcCniRoleArn"] == roles[VPC_CNI_ROLE]
    assert recording.stack_outputs["ebsCsiDriverRoleArn"] == roles[EBS_CSI_ROLE]


def test_an_existing_cluster_gets_only_the_add_ons_enabled() -> None:
    recording, _ = existing(
        manageOnExistingCluster=True,
        vpcCni={"enabled": False},
        kubeProxy={"enabled": False},
        coredns={"enabled": False},
        ebsCsiDriver={"version": "v1.40.0-eksbuild.1"},
        metricsServer={"enabled": True},
    )
    found = addons(recording)
    assert set(found) == {"aws-ebs-csi-driver", "metrics-server"}
    assert found["aws-ebs-csi-driver"].inputs["addonVersion"] == "v1.40.0-eksbuild.1"
    assert VPC_CNI_ROLE not in role_names(recording)
    assert EBS_CSI_ROLE in role_names(recording)


def test_an_existing_clusters_add_ons_have_decided_replacements() -> None:
    """The mode `tests/components/test_replacement.py` does not run: every type decided, and
    the decision in the options the engine receives."""
    recording, _ = existing(manageOnExistingCluster=True)
    resources = [r for r in recording.resources if r.custom]
    assert {r.type for r in resources} >= {ADDON, ROLE, POLICY, ATTACHMENT}
    assert {r.type for r in resources} <= set(REPLACEMENT)
    for resource in resources:
        assert resource.delete_before_replace is (REPLACEMENT[resource.type] == DELETE_FIRST)


# ---------------------------------------------------------------------------------------------
# The pieces


def test_an_add_on_spec_names_a_known_add_on() -> None:
    assert [AddonSpec(name).name for name in ADDON_NAMES] == list(ADDON_NAMES)
    with pytest.raises(ValueError, match="unknown add-on 'aws-efs-csi-driver'"):
        AddonSpec("aws-efs-csi-driver")


def test_the_mocks_answer_every_add_on_deterministically() -> None:
    assert {name: addon_version(name, "1.33") for name in ADDON_NAMES} == {
        "vpc-cni": "v1.20.4-eksbuild.1",
        "kube-proxy": "v1.33.3-eksbuild.2",
        "coredns": "v1.12.4-eksbuild.1",
        "aws-ebs-csi-driver": "v1.51.1-eksbuild.1",
        "metrics-server": "v0.8.0-eksbuild.2",
        "snapshot-controller": "v8.3.0-eksbuild.1",
    }
    with pytest.raises(NotImplementedError, match="no add-on 'aws-efs-csi-driver'"):
        addon_version("aws-efs-csi-driver", "1.33")
