"""An IAM role for Kubernetes service accounts (IRSA), trusted through the cluster's OIDC provider.

The pod role stays IRSA (not EKS Pod Identity): AWS Marketplace metering on EKS accepts only IRSA
credentials.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.iam_role import IamRole, IamRoleArgs
from components.oidc_provider import STS_AUDIENCE, OidcProvider
from policies.documents import Document, document, trust_statement


def service_account_subject(service_account: str) -> str:
    """`"<namespace>:<name>"` -> `system:serviceaccount:<namespace>:<name>`."""
    namespace, _, name = service_account.partition(":")
    if not namespace or not name:
        raise ValueError(f"service account {service_account!r} must be '<namespace>:<name>'")
    return f"system:serviceaccount:{namespace}:{name}"


def irsa_trust_policy(provider_arn: str, issuer: str, service_accounts: Sequence[str]) -> str:
    """One statement for the provider, conditioned on both `:sub` and `:aud`.

    `StringEquals` on the subjects, unless a service account is a pattern (`*`): then the
    subjects use `StringLike`, and the audience stays `StringEquals` all the same.
    """
    if not service_accounts:
        raise ValueError("an IRSA role needs at least one service account")
    subjects = [service_account_subject(sa) for sa in service_accounts]
    subject: str | list[str] = subjects[0] if len(subjects) == 1 else subjects
    audience = {f"{issuer}:aud": STS_AUDIENCE}
    condition: dict[str, dict[str, Any]]
    if any("*" in s for s in subjects):
        condition = {"StringEquals": audience, "StringLike": {f"{issuer}:sub": subject}}
    else:
        condition = {"StringEquals": {**audience, f"{issuer}:sub": subject}}
    assume = trust_statement(
        {"Federated": provider_arn},
        "sts:AssumeRoleWithWebIdentity",
        sid="ServiceAccountsOfThisCluster",
        condition=condition,
    )
    return json.dumps(document([assume]), separators=(",", ":"))


@dataclass(frozen=True)
class IrsaRoleArgs:
    oidc: OidcProvider
    service_accounts: Sequence[str]
    """Each `"<namespace>:<name>"`; a `*` in a name makes the subject a pattern."""
    role_name: str
    description: str
    policy_name_prefix: str
    policies: Mapping[str, Document] = field(default_factory=dict)
    managed_policy_arns: Sequence[pulumi.Input[str]] = ()
    """AWS-managed policies attached as they are (e.g. AmazonEKS_CNI_Policy)."""
    permissions_boundary: pulumi.Input[str] | None = None
    path: str = "/"
    max_session_duration: int = 3600
    tags: Mapping[str, str] = field(default_factory=dict)


class IrsaRole(IamRole):
    """`IamRole` whose trust is the cluster's OIDC provider and the given service accounts."""

    service_accounts: tuple[str, ...]

    def __init__(
        self, name: str, args: IrsaRoleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        accounts = tuple(args.service_accounts)
        for account in accounts:
            service_account_subject(account)  # refuse a malformed one before anything is made
        trust = pulumi.Output.all(args.oidc.arn, args.oidc.issuer).apply(
            lambda values: irsa_trust_policy(values[0], values[1], accounts)
        )
        super().__init__(
            name,
            IamRoleArgs(
                role_name=args.role_name,
                trust_policy=trust,
                description=args.description,
                policy_name_prefix=args.policy_name_prefix,
                policies=args.policies,
                managed_policy_arns=args.managed_policy_arns,
                permissions_boundary=args.permissions_boundary,
                path=args.path,
                max_session_duration=args.max_session_duration,
                tags=args.tags,
            ),
            opts,
            type_="poolside:aws:IrsaRole",
        )
        self.service_accounts = accounts
