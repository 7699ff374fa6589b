"""The Kubernetes ServiceAccounts of the IRSA roles, annotated with their role ARNs (optional).

Created through a Kubernetes provider built from the cluster's kubeconfig, so `pulumi up` leaves
the cluster ready for the Helm charts: they reference the accounts instead of creating them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"


@dataclass(frozen=True)
class ServiceAccountsArgs:
    kubeconfig: pulumi.Input[str]
    roles: Mapping[str, pulumi.Input[str]]
    """`"<namespace>:<name>"` -> the ARN of the role it assumes. Patterns (`*`) are skipped."""
    create_namespaces: Sequence[str] = ()


class ServiceAccounts(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: ServiceAccountsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("poolside:kubernetes:ServiceAccounts", name, None, opts)
        self.provider = k8s.Provider(
            f"{name}-provider", kubeconfig=args.kubeconfig, opts=pulumi.ResourceOptions(parent=self)
        )
        # Named objects: a replacement deletes the old one first (`components/replacement.py`).
        in_cluster = pulumi.ResourceOptions(
            parent=self, provider=self.provider, delete_before_replace=True
        )
        namespaces = {
            namespace: k8s.core.v1.Namespace(
                f"{name}-{namespace}", metadata={"name": namespace}, opts=in_cluster
            )
            for namespace in args.create_namespaces
        }
        self.accounts: dict[str, k8s.core.v1.ServiceAccount] = {}
        for account, role_arn in args.roles.items():
            if "*" in account:
                continue  # a pattern names no single account to create
            namespace, _, account_name = account.partition(":")
            depends = [namespaces[namespace]] if namespace in namespaces else []
            self.accounts[account] = k8s.core.v1.ServiceAccount(
                f"{name}-{namespace}-{account_name}",
                metadata={
                    "name": account_name,
                    "namespace": namespace,
                    "annotations": {ROLE_ARN_ANNOTATION: role_arn},
                },
                opts=pulumi.ResourceOptions.merge(
                    in_cluster, pulumi.ResourceOptions(depends_on=depends)
                ),
            )
        self.register_outputs({})
