"""The cluster, its OIDC provider and one IRSA role, built alone under the mock engine."""

from __future__ import annotations

from typing import Any

import pulumi

from components.eks_cluster import EksCluster, EksClusterArgs, look_up_cluster
from components.iam_role import IamRole, IamRoleArgs
from components.oidc_provider import OidcProvider, OidcProviderArgs
from offline_preview.engine import Recording
from policies.trust import irsa_trust
from stack_config import parse_stack_config
from tests.support.harness import (
    CLUSTER,
    KEY_ARN,
    environment,
)

EXISTING_VPC_ID = "vpc-0fedcba9876543210"


SUFFIX = {"aws": "amazonaws.com", "aws-us-gov": "amazonaws.com", "aws-cn": "amazonaws.com.cn"}


def cluster_config(**cluster: Any) -> Any:
    raw = {"deploymentName": "acme", "cluster": cluster or CLUSTER, "bastion": {"enabled": False}}
    return parse_stack_config(raw).cluster


def build(partition: str, cluster: Any, existing_provider: str | None = None) -> None:
    eks = EksCluster(
        "cluster",
        EksClusterArgs(
            env=environment(partition),
            cluster_name=cluster.existing_cluster_name or "poolside-acme",
            kms_key_arn=KEY_ARN["aws"],
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
