"""The cluster's EKS managed add-ons: each one explicit, versioned, and created in its place.

Every add-on the program manages is an `aws.eks.Addon` with:

* `addon_version`: the version pinned in config, else the newest EKS publishes for the cluster's
  Kubernetes version (`aws.eks.get_addon_version(most_recent=True)`, looked up at every run, so
  an unpinned add-on follows new builds and a control-plane upgrade; pin for change control);
* `resolve_conflicts_on_create="OVERWRITE"` (take over a self-managed copy: EKS installs
  `SELF_MANAGED_BY_EKS` in a new cluster unless told not to, and an existing cluster may run
  them), `resolve_conflicts_on_update="PRESERVE"` (keep what an operator changed by hand);
* the deployment's tags, and delete-before-replace: EKS allows one add-on of a name per cluster.

Order. On a cluster the program creates, `NodeGroups` creates `BEFORE_NODES` (the pod network
and service routing every node needs to become ready) before the node groups, and the rest after
them: CoreDNS, the EBS CSI controller, metrics-server and the snapshot controller run as
Deployments, which wait for nodes (an add-on without healthy pods times out). On an existing
cluster, `ClusterAddons` creates them with no ordering: the nodes are already there.

The `vpc-cni` and `aws-ebs-csi-driver` add-ons run with their own IRSA roles (the role ARN is
the add-on's `service_account_role_arn`; EKS annotates the service account with it). Nodes
cannot lend them theirs: pods never reach the node's metadata (hop limit 1, `NodeGroups`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.replacement import delete_first

# EKS's names of the add-ons the program manages.
VPC_CNI = "vpc-cni"
KUBE_PROXY = "kube-proxy"
COREDNS = "coredns"
EBS_CSI_DRIVER = "aws-ebs-csi-driver"
METRICS_SERVER = "metrics-server"
SNAPSHOT_CONTROLLER = "snapshot-controller"

# Before any node exists: a node is Ready only once the CNI runs, and kube-proxy routes Services.
BEFORE_NODES = (VPC_CNI, KUBE_PROXY)
# After the node groups: their pods need nodes to schedule on.
AFTER_NODES = (COREDNS, EBS_CSI_DRIVER, METRICS_SERVER, SNAPSHOT_CONTROLLER)
ADDON_NAMES = (*BEFORE_NODES, *AFTER_NODES)
# What EKS installs itself, self-managed, in a new cluster unless `bootstrapSelfManagedAddons` is
# false (Amazon EKS API Reference, CreateCluster: "the default networking add-ons").
SELF_MANAGED_BY_EKS = (VPC_CNI, KUBE_PROXY, COREDNS)

# The EBS CSI controller's IRSA role: its service account, and AWS's managed policy for the EC2
# side (a service-role policy: `arn:<partition>:iam::aws:policy/service-role/<name>`).
EBS_CSI_SERVICE_ACCOUNT = "kube-system:ebs-csi-controller-sa"
EBS_CSI_POLICY = "AmazonEBSCSIDriverPolicy"
EBS_CSI_POLICY_USE = (
    "the EBS CSI controller creates, attaches, detaches, snapshots and deletes volumes (creates "
    "and deletes tag-conditioned; attach and detach on any volume of the account)"
)
EBS_CSI_POLICY_PATH = "/service-role/"


@dataclass(frozen=True)
class AddonSpec:
    """One managed add-on, as plain values."""

    name: str
    """EKS's add-on name (`ADDON_NAMES`)."""
    version: str | None = None
    """The pinned version; None: the newest for the cluster's Kubernetes version."""
    service_account_role_arn: pulumi.Input[str] | None = None
    """The add-on's IRSA role, if it runs with one."""
    role_component: pulumi.Resource | None = None
    """That role's IamRole: the add-on waits for its policy attachments, not only the role."""

    def __post_init__(self) -> None:
        if self.name not in ADDON_NAMES:
            raise ValueError(f"unknown add-on {self.name!r}: one of {', '.join(ADDON_NAMES)}")


def addon_version(
    spec: AddonSpec, kubernetes_version: pulumi.Input[str], parent: pulumi.Resource
) -> pulumi.Input[str]:
    """The pinned version, else the newest EKS publishes for `kubernetes_version`."""
    if spec.version is not None:
        return spec.version
    return aws.eks.get_addon_version_output(
        addon_name=spec.name,
        kubernetes_version=kubernetes_version,
        most_recent=True,
        opts=pulumi.InvokeOutputOptions(parent=parent),
    ).version


def managed_addon(
    resource_name: str,
    spec: AddonSpec,
    *,
    parent: pulumi.Resource,
    cluster_name: pulumi.Input[str],
    kubernetes_version: pulumi.Input[str],
    tags: Mapping[str, str],
    depends_on: Sequence[pulumi.Resource] = (),
    aliases: Sequence[pulumi.Alias] | None = None,
) -> aws.eks.Addon:
    """One add-on, under `parent`, after `depends_on` (and its role's attachments)."""
    waits_for = [*depends_on, *([spec.role_component] if spec.role_component else [])]
    return aws.eks.Addon(
        resource_name,
        cluster_name=cluster_name,
        addon_name=spec.name,
        addon_version=addon_version(spec, kubernetes_version, parent),
        service_account_role_arn=spec.service_account_role_arn,
        # Take over a self-managed copy (SELF_MANAGED_BY_EKS); keep manual changes.
        resolve_conflicts_on_create="OVERWRITE",
        resolve_conflicts_on_update="PRESERVE",
        tags=dict(tags),
        # one add-on of a name per cluster: a replacement deletes the old one first
        opts=pulumi.ResourceOptions.merge(
            delete_first(parent, depends_on=waits_for or None),
            pulumi.ResourceOptions(aliases=list(aliases) if aliases else None),
        ),
    )


@dataclass(frozen=True)
class ClusterAddonsArgs:
    cluster_name: pulumi.Input[str]
    kubernetes_version: pulumi.Input[str]
    """The existing cluster's version: unpinned add-ons resolve for it."""
    addons: Sequence[AddonSpec]
    tags: Mapping[str, str] = field(default_factory=dict)


class ClusterAddons(pulumi.ComponentResource):
    """The managed add-ons of an existing cluster (`addons.manageOnExistingCluster`): its nodes
    exist already, so there is no order to keep."""

    addons: dict[str, aws.eks.Addon]

    def __init__(
        self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("poolside:aws:ClusterAddons", name, None, opts)
        self.addons = {
            spec.name: managed_addon(
                f"{name}-{spec.name}",
                spec,
                parent=self,
                cluster_name=args.cluster_name,
                kubernetes_version=args.kubernetes_version,
                tags=args.tags,
            )
            for spec in args.addons
        }
        self.register_outputs({"addonArns": {n: a.arn for n, a in self.addons.items()}})
