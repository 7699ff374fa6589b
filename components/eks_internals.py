"""What pulumi-eks creates inside its remote components, for the arguments this program passes.

pulumi-eks's `Cluster` and `ManagedNodeGroup` are remote components: the eks provider process runs
their TypeScript and registers their children with the engine. The offline preview never starts
that process, so its mock engine sees the components and, of their children, only the inner EKS
cluster (which `Cluster` hands back as a resource reference). This module is the rest, as data:
for each component, the arguments the program passes (each fixed one with what pulumi-eks would
create without it), the resources pulumi-eks still registers inside, and what AWS creates by
itself for them, in no Pulumi plan at all. `docs/iam/<stack>.md` prints it for the stack's
recorded inputs; tests hold it to the inputs the program passes.

Read from pulumi-eks's source, `nodejs/eks/` at `SOURCE_COMMIT` of github.com/pulumi/pulumi-eks:
the stored snapshot holds no `v4.4.0` tag; its newest tag is `v4.3.0`, and `nodejs/eks`'s
TypeScript is the same at both (only `yarn.lock` differs), and the `Cluster` and
`ManagedNodeGroup` arguments of the installed pulumi-eks 4.4.0 SDK are those of that commit's
SDK. On an upgrade of pulumi-eks, read the source again and bump `PULUMI_EKS_VERSION` (a test
fails until the pin in requirements.txt and this agree).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PULUMI_EKS_VERSION = "4.4.0"
SOURCE_REPOSITORY = "pulumi/pulumi-eks"
SOURCE_COMMIT = "7bf0c1b1"

CLUSTER_TS = "nodejs/eks/cluster/cluster.ts"
NODEGROUP_TS = "nodejs/eks/nodes/nodegroup.ts"
SECURITYGROUP_TS = "nodejs/eks/nodes/securitygroup.ts"
CNI_ADDON_TS = "nodejs/eks/addons/cni-addon.ts"
AUTHENTICATION_MODE_TS = "nodejs/eks/cluster/authenticationMode.ts"


class _Passed:
    """The marker of an argument the program passes whatever its value (a role, a template)."""

    def __repr__(self) -> str:
        return "PASSED"


PASSED: Any = _Passed()


@dataclass(frozen=True)
class Fixed:
    """An argument the program always passes with one value (wire name, as the engine records
    it), and what pulumi-eks would create or do without it."""

    name: str
    value: Any
    otherwise: str
    source: str


@dataclass(frozen=True)
class Inside:
    """A resource pulumi-eks registers inside the component (a step of `pulumi preview`)."""

    type: str
    name: str
    """Its Pulumi name; `{name}` is the component's."""
    purpose: str
    source: str
    in_offline_preview: bool = False
    """Whether the offline preview records it too (the inner cluster, returned by reference)."""
    when: Mapping[str, Any] = field(default_factory=dict)
    """Only when the component's recorded inputs hold these values."""


@dataclass(frozen=True)
class ByAws:
    """What AWS creates by itself for the component's resources: in no Pulumi plan or state."""

    what: str
    source: str
    when: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RemoteComponent:
    type: str
    fixed: tuple[Fixed, ...]
    from_config: Mapping[str, str]
    """Arguments whose value comes from the stack's config (or another resource), by wire name,
    and what they set. Nothing else is passed: a test fails on any argument in neither list."""
    inside: tuple[Inside, ...]
    by_aws: tuple[ByAws, ...]

    def inside_for(self, inputs: Mapping[str, Any]) -> list[Inside]:
        return [entry for entry in self.inside if _holds(entry.when, inputs)]

    def by_aws_for(self, inputs: Mapping[str, Any]) -> list[ByAws]:
        return [entry for entry in self.by_aws if _holds(entry.when, inputs)]


def _holds(when: Mapping[str, Any], inputs: Mapping[str, Any]) -> bool:
    return all(inputs.get(key) == value for key, value in when.items())


CLUSTER = RemoteComponent(
    type="eks:index:Cluster",
    fixed=(
        Fixed(
            "serviceRole",
            PASSED,
            "a role of its own, `{name}-eksRole`, with `AmazonEKSClusterPolicy` and a trust that "
            "also allows `sts:TagSession`",
            f"{CLUSTER_TS}#L515-L545",
        ),
        Fixed(
            "skipDefaultNodeGroup",
            True,
            "a self-managed default node group (launch template, Auto Scaling group, an instance "
            "role holding `AmazonEKS_CNI_Policy` with its instance profile, an `EC2_LINUX` access "
            "entry)",
            f"{CLUSTER_TS}#L924-L999, #L2150-L2165",
        ),
        Fixed(
            "skipDefaultSecurityGroups",
            True,
            "a cluster security group with egress to 0.0.0.0/0 on the control plane, and a node "
            "security group (four rules, and one on the cluster group) that no managed node "
            "group uses",
            f"{CLUSTER_TS}#L548-L590, #L2120-L2148; {SECURITYGROUP_TS}#L104-L203",
        ),
        Fixed(
            "useDefaultVpcCni",
            True,
            "its own `vpc-cni` add-on, running with the node role's credentials",
            f"{CLUSTER_TS}#L1089-L1112; {CNI_ADDON_TS}",
        ),
        Fixed(
            "kubeProxyAddonOptions",
            {"enabled": False},
            "its own `kube-proxy` add-on",
            f"{CLUSTER_TS}#L764-L797",
        ),
        Fixed(
            "corednsAddonOptions",
            {"enabled": False},
            "its own `coredns` add-on (with a default node group or Fargate)",
            f"{CLUSTER_TS}#L1175-L1245",
        ),
        Fixed(
            "createOidcProvider",
            False,
            "an IAM OIDC provider with a thumbprint fetched at run time (the program's "
            "`OidcProvider` creates or reuses one)",
            f"{CLUSTER_TS}#L1245-L1263",
        ),
        Fixed(
            "endpointPrivateAccess",
            True,
            "no private API endpoint (EKS's default): nodes would reach the API over the internet",
            f"{CLUSTER_TS}#L701-L706",
        ),
        Fixed(
            "nodeAssociatePublicIpAddress",
            False,
            "public addresses on default node group instances (none exist: no default group)",
            f"{CLUSTER_TS}#L466-L479",
        ),
    ),
    from_config={
        "name": "the EKS cluster's name (`<deploymentPrefix>`)",
        "version": "`cluster.kubernetesVersion`",
        "vpcId": "`cluster.vpcId`",
        "privateSubnetIds": "`cluster.privateSubnetIds`",
        "publicSubnetIds": "`cluster.publicSubnetIds`",
        "endpointPublicAccess": "`cluster.endpointPublicAccess`",
        "publicAccessCidrs": "`cluster.publicAccessCidrs`",
        "authenticationMode": "`cluster.authenticationMode` (`API` or `API_AND_CONFIG_MAP`)",
        "enabledClusterLogTypes": "`cluster.enabledLogTypes`",
        "encryptionConfigKeyArn": "the deployment's key (Kubernetes secrets)",
        "bootstrapSelfManagedAddons": (
            "false while the program manages `vpc-cni`, `kube-proxy` and `coredns` "
            "(`deployment.eks_installs_its_own_addons`)"
        ),
        "tags": "the deployment's tags",
    },
    inside=(
        Inside(
            "aws:eks/cluster:Cluster",
            "{name}-eksCluster",
            "the EKS cluster: private endpoint, secrets encrypted with the deployment's key, "
            "access entries, the program's cluster role",
            f"{CLUSTER_TS}#L687-L760",
            in_offline_preview=True,
        ),
        Inside(
            "pulumi:providers:kubernetes",
            "{name}-eks-k8s",
            "a Kubernetes provider with the cluster's kubeconfig; with these arguments nothing "
            "uses it but the `aws-auth` ConfigMap of `API_AND_CONFIG_MAP` authentication, when "
            "that mode is chosen",
            f"{CLUSTER_TS}#L914-L921",
        ),
        Inside(
            "kubernetes:core/v1:ConfigMap",
            "{name}-nodeAccess",
            "`kube-system/aws-auth`, force-patched through the Kubernetes API during `pulumi up` "
            "(with the default private endpoint, only from inside the VPC), mapping no role",
            f"{CLUSTER_TS}#L1000-L1028; {AUTHENTICATION_MODE_TS}#L102-L109",
            when={"authenticationMode": "API_AND_CONFIG_MAP"},
        ),
    ),
    by_aws=(
        ByAws(
            "EKS's own cluster security group (`eks-cluster-sg-<cluster>-<id>`: all traffic "
            "within the group, all egress) on the control plane's network interfaces and on every "
            "managed node; the bastion's API rule is added to it",
            "Amazon EKS User Guide, sec-group-reqs.html; "
            f"{CLUSTER_TS}#L2194-L2198, where pulumi-eks reports it as the cluster's group",
        ),
        ByAws(
            "an access entry for the IAM principal that runs the first `pulumi up`, with "
            "`AmazonEKSClusterAdminPolicy`: pulumi-eks sets "
            "`bootstrapClusterCreatorAdminPermissions: true` and no argument turns it off; "
            "`aws eks delete-access-entry` removes it after the first deployment (the principal "
            "then needs an access entry of its own for `cluster.createServiceAccounts`)",
            f"{CLUSTER_TS}#L733-L742",
        ),
        ByAws(
            "the control plane's log group `/aws/eks/<cluster>/cluster`, for "
            "`enabledClusterLogTypes`, with no expiry",
            "Amazon EKS User Guide, control-plane-logs.html",
        ),
        ByAws(
            "self-managed `vpc-cni` (`aws-node`, with the node role's credentials), `kube-proxy` "
            "and `coredns` in `kube-system`; the program's add-ons take them over "
            "(`resolveConflictsOnCreate: OVERWRITE`)",
            f"{CLUSTER_TS}#L698-L700; Amazon EKS API Reference, CreateCluster",
            when={"bootstrapSelfManagedAddons": True},
        ),
    ),
)


MANAGED_NODE_GROUP = RemoteComponent(
    type="eks:index:ManagedNodeGroup",
    fixed=(
        Fixed(
            "launchTemplate",
            PASSED,
            "no launch template of the program's (IMDSv2 with hop limit 1, encrypted gp3 root "
            "volume): EKS's default one, or pulumi-eks's own for `enableIMDSv2`, whose hop limit "
            "2 pods reach",
            f"{NODEGROUP_TS}#L2049-L2059, #L2128-L2134",
        ),
        Fixed(
            "ignoreScalingChanges",
            True,
            "a diff on `scalingConfig.desiredSize` whenever the cluster autoscaler moved it",
            f"{NODEGROUP_TS}#L2084-L2086, #L2119",
        ),
    ),
    from_config={
        "cluster": "the pulumi-eks cluster",
        "nodeRole": "the program's node role",
        "nodeGroupName": "`<deploymentPrefix>-<group>`",
        "version": "the cluster's Kubernetes version",
        "subnetIds": "`cluster.privateSubnetIds`",
        "instanceTypes": "`cluster.nodeGroups[].instanceTypes`",
        "amiType": "Amazon Linux 2023 for the group's architecture, NVIDIA for `gpu`",
        "scalingConfig": "`cluster.nodeGroups[].minSize`, `desiredSize`, `maxSize`",
        "labels": "`cluster.nodeGroups[].labels`",
        "taints": "`cluster.nodeGroups[].taints`",
        "tags": "the deployment's tags",
    },
    inside=(
        Inside(
            "aws:eks/nodegroup:NodeGroup",
            "{name}",
            "the EKS managed node group, with the program's launch template and node role",
            f"{NODEGROUP_TS}#L2092-L2120",
        ),
    ),
    by_aws=(
        ByAws(
            "the node group's Auto Scaling group and its EC2 instances, launched from the "
            "program's launch template",
            "Amazon EKS User Guide, managed-node-groups.html",
        ),
        ByAws(
            "an `EC2_LINUX` access entry for the node role, so that its nodes can join",
            "Amazon EKS User Guide, creating-access-entries.html; "
            f"{NODEGROUP_TS}#L1944-L1953, which leaves it to EKS",
        ),
    ),
)


REMOTE_COMPONENTS = (CLUSTER, MANAGED_NODE_GROUP)
