"""The managed node groups of a created cluster, and the add-ons that must bracket them.

Order, so that nodes join and stay least-privileged:

1. The add-ons every node needs to become ready (`cluster_addons.BEFORE_NODES`), before any node
   exists: `vpc-cni`, with its own IRSA role (`kube-system:aws-node` holds
   `AmazonEKS_CNI_Policy`), since a node's network is ready only once the CNI runs and the node
   role no longer carries the CNI's account-wide network-interface writes; and `kube-proxy`.
   terraform-aws-eks does the same with `before_compute = true`.
2. One launch template per node group, then the group. The template requires IMDSv2 with a
   response hop limit of 1 (EKS Best Practices, "Restrict access to the instance profile assigned
   to the worker node"): a pod on the pod network is one hop further and cannot read the node
   role's credentials. pulumi-eks's own `enableIMDSv2` sets the hop limit to 2, which pods reach.
   The template also holds the root volume (gp3, encrypted; EKS refuses a node group `diskSize`
   beside a launch template).
3. The add-ons whose pods need nodes (`cluster_addons.AFTER_NODES`), after the node groups:
   CoreDNS, the EBS CSI driver (with its IRSA role), metrics-server, the snapshot controller. An
   add-on waits for its pods to be healthy (pulumi-eks #1525, #1819 stalled on a cluster
   without nodes).

Pods therefore cannot read their region or VPC from the instance metadata service: components
that need them get them explicitly (the Load Balancer Controller's Helm values in the outputs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks

from aws_environment import is_arm64_instance_type
from components.cluster_addons import BEFORE_NODES, AddonSpec, managed_addon

# Amazon Linux 2023 EKS AMIs (standard, ARM and NVIDIA) boot from this device.
ROOT_DEVICE_NAME = "/dev/xvda"
# A container on the pod network is one hop from the node: 1 keeps the credentials on the node.
NODE_METADATA_HOP_LIMIT = 1


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str
    """`NO_SCHEDULE`, `NO_EXECUTE` or `PREFER_NO_SCHEDULE`."""


@dataclass(frozen=True)
class NodeGroupSpec:
    """One managed node group (the config's `cluster.nodeGroups[]`, as plain values)."""

    name: str
    """The group's name in the program; in EKS it is `node_group_name`."""
    node_group_name: str
    instance_types: Sequence[str]
    min_size: int
    desired_size: int
    max_size: int
    disk_size_gib: int
    gpu: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: Sequence[Taint] = ()


def ami_type(group: NodeGroupSpec) -> str:
    """Amazon Linux 2023 for the group's architecture; NVIDIA drivers for GPU groups (x86_64)."""
    if group.gpu:
        return "AL2023_x86_64_NVIDIA"
    arm64 = is_arm64_instance_type(group.instance_types[0])
    return "AL2023_ARM_64_STANDARD" if arm64 else "AL2023_x86_64_STANDARD"


@dataclass(frozen=True)
class NodeGroupsArgs:
    cluster: eks.Cluster
    """The pulumi-eks cluster the groups join."""
    cluster_name: pulumi.Input[str]
    node_role: aws.iam.Role
    node_role_component: pulumi.Resource
    """The node role's IamRole: nodes join only once every policy attachment exists."""
    subnet_ids: Sequence[str]
    groups: Sequence[NodeGroupSpec]
    kubernetes_version: pulumi.Input[str]
    """The cluster's version: pulumi-eks fills a group's `version` from the cluster only without
    a launch template, and a group left behind blocks the next control-plane upgrade."""
    addons: Sequence[AddonSpec] = ()
    """The managed add-ons: those of `BEFORE_NODES` before the node groups, the rest after."""
    tags: Mapping[str, str] = field(default_factory=dict)
    previous_parent: pulumi.Resource | None = None
    """The component the node groups and CoreDNS were children of before this one existed
    (`EksCluster`): an alias keeps them, so an update does not replace them."""


# The add-ons that were children of `EksCluster` before this component existed (the alias).
FORMERLY_EKS_CLUSTER_CHILDREN = ("coredns",)


class NodeGroups(pulumi.ComponentResource):
    """vpc-cni (IRSA), kube-proxy -> launch templates and managed node groups -> CoreDNS, the
    EBS CSI driver (IRSA), metrics-server, the snapshot controller (those enabled)."""

    addons: dict[str, aws.eks.Addon]
    """Every managed add-on by EKS name, each `<name>-<add-on>` (`cluster-vpc-cni`)."""
    launch_templates: dict[str, aws.ec2.LaunchTemplate]
    node_groups: dict[str, eks.ManagedNodeGroup]

    def __init__(
        self, name: str, args: NodeGroupsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("poolside:aws:NodeGroups", name, None, opts)
        tags = dict(args.tags)
        moved = (
            [pulumi.Alias(parent=args.previous_parent)]
            if args.previous_parent is not None
            else None
        )
        self.addons = {}
        for spec in args.addons:
            if spec.name in BEFORE_NODES:
                self.addons[spec.name] = self._addon(name, spec, args, [], moved)
        self.launch_templates = {}
        self.node_groups = {}
        for group in args.groups:
            template = self._launch_template(name, group, tags)
            self.launch_templates[group.name] = template
            self.node_groups[group.name] = self._node_group(name, group, template, args, moved)
        nodes: list[pulumi.Resource] = list(self.node_groups.values())
        for spec in args.addons:
            if spec.name not in BEFORE_NODES:
                self.addons[spec.name] = self._addon(name, spec, args, nodes, moved)
        self.register_outputs(
            {
                "addonArns": {n: addon.arn for n, addon in self.addons.items()},
                "launchTemplateIds": {g: t.id for g, t in self.launch_templates.items()},
            }
        )

    def _addon(
        self,
        name: str,
        spec: AddonSpec,
        args: NodeGroupsArgs,
        after: list[pulumi.Resource],
        moved: list[pulumi.Alias] | None,
    ) -> aws.eks.Addon:
        return managed_addon(
            f"{name}-{spec.name}",
            spec,
            parent=self,
            cluster_name=args.cluster_name,
            kubernetes_version=args.kubernetes_version,
            tags=args.tags,
            depends_on=after,
            aliases=moved if spec.name in FORMERLY_EKS_CLUSTER_CHILDREN else None,
        )

    def _launch_template(
        self, name: str, group: NodeGroupSpec, tags: dict[str, str]
    ) -> aws.ec2.LaunchTemplate:
        return aws.ec2.LaunchTemplate(
            f"{name}-{group.name}-launch-template",
            description=f"Poolside node group {group.name}: IMDSv2, hop limit 1, encrypted root",
            metadata_options={
                "http_endpoint": "enabled",
                "http_tokens": "required",
                "http_put_response_hop_limit": NODE_METADATA_HOP_LIMIT,
                "instance_metadata_tags": "disabled",
            },
            block_device_mappings=[
                {
                    "device_name": ROOT_DEVICE_NAME,
                    "ebs": {
                        "volume_size": group.disk_size_gib,
                        "volume_type": "gp3",
                        "encrypted": "true",
                        "delete_on_termination": "true",
                    },
                }
            ],
            tag_specifications=[
                {"resource_type": "instance", "tags": tags},
                {"resource_type": "volume", "tags": tags},
            ],
            update_default_version=True,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _node_group(
        self,
        name: str,
        group: NodeGroupSpec,
        template: aws.ec2.LaunchTemplate,
        args: NodeGroupsArgs,
        moved: list[pulumi.Alias] | None,
    ) -> eks.ManagedNodeGroup:
        return eks.ManagedNodeGroup(
            f"{name}-{group.name}",
            cluster=args.cluster,
            node_group_name=group.node_group_name,
            version=args.kubernetes_version,
            node_role=args.node_role,
            subnet_ids=list(args.subnet_ids),
            instance_types=list(group.instance_types),
            ami_type=ami_type(group),
            launch_template={
                "id": template.id,
                "version": template.latest_version.apply(str),
            },
            scaling_config={
                "min_size": group.min_size,
                "desired_size": group.desired_size,
                "max_size": group.max_size,
            },
            # The cluster autoscaler owns the desired size after creation.
            ignore_scaling_changes=True,
            labels=dict(group.labels) or None,
            taints=[
                {"key": taint.key, "value": taint.value, "effect": taint.effect}
                for taint in group.taints
            ]
            or None,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(
                parent=self,
                # Nodes join once their role's policies are attached and the CNI can run.
                depends_on=[args.node_role_component, *self._before_nodes()],
                aliases=moved,
            ),
        )

    def _before_nodes(self) -> list[pulumi.Resource]:
        return [self.addons[n] for n in BEFORE_NODES if n in self.addons]
