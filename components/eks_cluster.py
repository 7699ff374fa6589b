"""The EKS cluster: created with pulumi-eks, or an existing one looked up by name.

A created cluster gets its own service role and node role, created here (not inside pulumi-eks)
so that every IAM role the deployment adds is visible in the preview and in this code. Kubernetes
secrets are encrypted with the deployment's key; the API endpoint is private unless a CIDR
allowlist opens it; authentication is by access entries. The OIDC provider is NOT created by
pulumi-eks (`create_oidc_provider=False`): `OidcProvider` does it, or reuses an existing one.
The node groups, and the add-ons that must come before and after them, are `NodeGroups`'s: the
VPC CNI runs with its own IRSA role, which needs the OIDC provider, which needs this cluster.
pulumi-eks therefore creates none of the add-ons (`vpc-cni`, `kube-proxy`, `coredns`): the
program manages each explicitly (`components/cluster_addons.py`), and EKS installs no
self-managed copies of them either while the program manages all three
(`bootstrap_self_managed_addons`). pulumi-eks's own security groups are off: nothing uses them
(see `components/eks_internals.py`, which lists what pulumi-eks still creates inside).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks

from aws_environment import AwsEnvironment
from components.iam_role import IamRole, IamRoleArgs
from policies.trust import service_trust

# The AWS-managed policies of the cluster and node roles, each with what it is for (the review
# document prints it).
CLUSTER_ROLE_POLICIES = {
    "AmazonEKSClusterPolicy": (
        "what EKS needs to manage the cluster's AWS resources on its behalf (AWS's required "
        "cluster role policy)"
    ),
}
# What every EKS node needs: join the cluster and pull images. Not `AmazonEKS_CNI_Policy`: the VPC
# CNI (`kube-system:aws-node`) has its own IRSA role (`NodeGroups`), as AWS recommends ("Configure
# Amazon VPC CNI plugin to use IRSA"), so the node role cannot create or change network
# interfaces anywhere in the account.
NODE_ROLE_POLICIES = {
    "AmazonEKSWorkerNodePolicy": "nodes describe the cluster and their instances to join it",
    "AmazonEC2ContainerRegistryReadOnly": (
        "nodes pull images: read-only ECR on every repository of the account"
    ),
}
# The VPC CNI's IRSA role holds this AWS-managed policy.
VPC_CNI_POLICY = "AmazonEKS_CNI_Policy"
VPC_CNI_POLICY_USE = (
    "the VPC CNI gives pods network interfaces and addresses: EC2 network-interface writes on `*`"
)
VPC_CNI_SERVICE_ACCOUNT = "kube-system:aws-node"


@dataclass(frozen=True)
class ExistingCluster:
    """What the program needs of a cluster it does not manage, looked up once by name."""

    name: str
    endpoint: str
    issuer_url: str
    certificate_authority: str
    security_group_id: str
    authentication_mode: str
    vpc_id: str
    version: str


def look_up_cluster(name: str) -> ExistingCluster:
    found = aws.eks.get_cluster(name=name)
    return ExistingCluster(
        name=found.name,
        endpoint=found.endpoint,
        issuer_url=found.identities[0].oidcs[0].issuer,
        certificate_authority=found.certificate_authorities[0].data,
        security_group_id=found.vpc_config.cluster_security_group_id,
        authentication_mode=found.access_configs[0].authentication_mode,
        vpc_id=found.vpc_config.vpc_id,
        version=found.version,
    )


@dataclass(frozen=True)
class EksClusterArgs:
    env: AwsEnvironment
    cluster_name: str
    kms_key_arn: pulumi.Input[str]
    """Encrypts the cluster's Kubernetes secrets."""
    cluster_role_name: str
    node_role_name: str
    policy_name_prefix: str
    existing: ExistingCluster | None = None
    """The looked-up cluster when one is named; nothing is created, and the rest is unused."""
    kubernetes_version: str = "1.34"
    vpc_id: str | None = None
    private_subnet_ids: Sequence[str] = ()
    public_subnet_ids: Sequence[str] = ()
    endpoint_public_access: bool = False
    public_access_cidrs: Sequence[str] = ()
    """The public endpoint's allowlist (only with `endpoint_public_access`)."""
    authentication_mode: str = "API"
    enabled_log_types: Sequence[str] = ("api", "audit", "authenticator")
    bootstrap_self_managed_addons: bool = True
    """Let EKS install its self-managed `vpc-cni`, `kube-proxy` and `coredns` in a new cluster
    (EKS's default); off when the program manages all three as add-ons. Read at creation only:
    pulumi-eks ignores later changes, so a deployed cluster is never replaced for it."""
    tags: dict[str, str] = field(default_factory=dict)


def kubeconfig(name: str, endpoint: str, certificate_authority: str, region: str) -> str:
    """A kubeconfig that authenticates with `aws eks get-token` (the caller's AWS credentials)."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": name,
                    "cluster": {
                        "server": endpoint,
                        "certificate-authority-data": certificate_authority,
                    },
                }
            ],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
            "users": [
                {
                    "name": name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": [
                                "eks",
                                "get-token",
                                "--cluster-name",
                                name,
                                "--region",
                                region,
                            ],
                        }
                    },
                }
            ],
        }
    )


class EksCluster(pulumi.ComponentResource):
    name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    """The cluster security group EKS attaches to the control plane (API access rules go here)."""
    vpc_id: pulumi.Output[str]
    kubernetes_version: pulumi.Output[str]
    created: bool

    def __init__(
        self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("poolside:aws:EksCluster", name, None, opts)
        self.created = args.existing is None
        self.cluster: eks.Cluster | None = None
        if args.existing is not None:
            self._use_existing(args.existing, args.env)
        else:
            self._create(name, args)
        self.register_outputs(
            {
                "name": self.name,
                "endpoint": self.endpoint,
                "oidcIssuerUrl": self.oidc_issuer_url,
                "vpcId": self.vpc_id,
            }
        )

    def _use_existing(self, found: ExistingCluster, env: AwsEnvironment) -> None:
        self.name = pulumi.Output.from_input(found.name)
        self.endpoint = pulumi.Output.from_input(found.endpoint)
        self.oidc_issuer_url = pulumi.Output.from_input(found.issuer_url)
        self.security_group_id = pulumi.Output.from_input(found.security_group_id)
        self.vpc_id = pulumi.Output.from_input(found.vpc_id)
        self.kubernetes_version = pulumi.Output.from_input(found.version)
        self.kubeconfig = pulumi.Output.secret(
            kubeconfig(found.name, found.endpoint, found.certificate_authority, env.region)
        )

    def _managed_policy_arns(self, env: AwsEnvironment, names: Sequence[str]) -> list[str]:
        return [env.aws_managed_policy_arn(policy) for policy in names]

    def _create(self, name: str, args: EksClusterArgs) -> None:
        env = args.env
        child = pulumi.ResourceOptions(parent=self)
        self.cluster_role = IamRole(
            f"{name}-cluster",
            IamRoleArgs(
                role_name=args.cluster_role_name,
                trust_policy=service_trust(env.service_principal("eks")),
                description="EKS control plane of the Poolside deployment",
                policy_name_prefix=args.policy_name_prefix,
                managed_policy_arns=self._managed_policy_arns(env, list(CLUSTER_ROLE_POLICIES)),
                tags=args.tags,
            ),
            opts=child,
        )
        self.node_role = IamRole(
            f"{name}-node",
            IamRoleArgs(
                role_name=args.node_role_name,
                trust_policy=service_trust(env.service_principal("ec2")),
                description="EKS managed nodes of the Poolside deployment",
                policy_name_prefix=args.policy_name_prefix,
                managed_policy_arns=self._managed_policy_arns(env, list(NODE_ROLE_POLICIES)),
                tags=args.tags,
            ),
            opts=child,
        )

        self.cluster = eks.Cluster(
            f"{name}-eks",
            name=args.cluster_name,
            version=args.kubernetes_version,
            vpc_id=args.vpc_id,
            private_subnet_ids=list(args.private_subnet_ids),
            public_subnet_ids=list(args.public_subnet_ids) or None,
            node_associate_public_ip_address=False,
            endpoint_private_access=True,
            endpoint_public_access=args.endpoint_public_access,
            public_access_cidrs=list(args.public_access_cidrs) or None,
            authentication_mode=eks.AuthenticationMode(args.authentication_mode),
            enabled_cluster_log_types=list(args.enabled_log_types),
            encryption_config_key_arn=args.kms_key_arn,
            service_role=self.cluster_role.role,
            skip_default_node_group=True,
            # No pulumi-eks cluster and node security groups: managed nodes with a launch template
            # that names no security group get EKS's own cluster security group, which also
            # carries the bastion's API rule; pulumi-eks's groups would be attached to nothing but
            # the control plane, with egress to 0.0.0.0/0.
            skip_default_security_groups=True,
            bootstrap_self_managed_addons=args.bootstrap_self_managed_addons,
            # CoreDNS needs nodes to become healthy: `NodeGroups` creates it after them,
            # instead of pulumi-eks before any node exists (the add-on then times out).
            coredns_addon_options={"enabled": False},
            # kube-proxy too is the program's (`NodeGroups`, with a pinned or resolved version).
            kube_proxy_addon_options={"enabled": False},
            # No pulumi-eks VPC CNI: `NodeGroups` manages the add-on with its IRSA role.
            use_default_vpc_cni=True,
            create_oidc_provider=False,
            tags=args.tags,
            opts=child,
        )
        self.name = self.cluster.eks_cluster.name
        self.endpoint = self.cluster.eks_cluster.endpoint
        self.security_group_id = self.cluster.eks_cluster.vpc_config.cluster_security_group_id
        self.oidc_issuer_url = self.cluster.eks_cluster.identities[0].oidcs[0].issuer
        self.vpc_id = self.cluster.eks_cluster.vpc_config.vpc_id
        self.kubernetes_version = self.cluster.eks_cluster.version
        self.kubeconfig = pulumi.Output.secret(self.cluster.kubeconfig_json)
