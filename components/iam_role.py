"""An IAM role: its trust, and its permissions as customer-managed policies, one per purpose.

The trust is a policy document like the others (`policies/trust.py` builds every kind: an AWS
service, Bedrock with confused-deputy conditions, Kubernetes service accounts through IRSA), so
every role is this one component. Each policy is its own `aws.iam.Policy` named
`<deploymentPrefix>-<purpose>` and attached to the role, so the IAM console shows the same
policies, under the same names, as the specification lists. Inline policies are never used: a
reviewer can read, diff and audit each one separately.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.replacement import delete_first
from policies.documents import Document, render
from policy.iam_limits import ROLE_MANAGED_POLICIES_MAX


@dataclass(frozen=True)
class IamRoleArgs:
    role_name: str
    trust_policy: pulumi.Input[Document]
    """Who may assume the role: a document from `policies/trust.py` (an Output for IRSA)."""
    description: str
    policy_name_prefix: str
    policies: Mapping[str, Document] = field(default_factory=dict)
    """Customer-managed policies by purpose; each becomes `<policy_name_prefix>-<purpose>`."""
    managed_policy_arns: Sequence[pulumi.Input[str]] = ()
    """AWS-managed policies attached as they are (e.g. AmazonSSMManagedInstanceCore)."""
    permissions_boundary: pulumi.Input[str] | None = None
    path: str = "/"
    max_session_duration: int = 3600
    tags: Mapping[str, str] = field(default_factory=dict)


class IamRole(pulumi.ComponentResource):
    """The role, its customer-managed policies and their attachments."""

    arn: pulumi.Output[str]
    role_name: pulumi.Output[str]
    policy_arns: dict[str, pulumi.Output[str]]

    def __init__(
        self,
        name: str,
        args: IamRoleArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        count = len(args.policies) + len(args.managed_policy_arns)
        if count > ROLE_MANAGED_POLICIES_MAX:
            raise ValueError(
                f"role {args.role_name} would have {count} managed policies; IAM allows "
                f"{ROLE_MANAGED_POLICIES_MAX} per role"
            )
        super().__init__("poolside:aws:IamRole", name, None, opts)

        self.role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            path=args.path,
            description=args.description,
            assume_role_policy=render(args.trust_policy),
            max_session_duration=args.max_session_duration,
            permissions_boundary=args.permissions_boundary,
            # A replacement deletes the old role first (its name is fixed), detaching its
            # policies so that IAM lets it go.
            force_detach_policies=True,
            tags=dict(args.tags),
            opts=delete_first(self),
        )
        self.policies: dict[str, aws.iam.Policy] = {}
        for purpose, document in args.policies.items():
            policy = aws.iam.Policy(
                f"{name}-{purpose}",
                name=f"{args.policy_name_prefix}-{purpose}",
                path=args.path,
                description=f"{args.role_name}: {purpose}",
                policy=render(document),
                tags=dict(args.tags),
                opts=delete_first(self),
            )
            aws.iam.RolePolicyAttachment(
                f"{name}-{purpose}",
                role=self.role.name,
                policy_arn=policy.arn,
                # detach, then attach: the other order would detach the policy it just attached
                opts=delete_first(self),
            )
            self.policies[purpose] = policy
        for index, arn in enumerate(args.managed_policy_arns):
            label = arn.rsplit("/", 1)[1] if isinstance(arn, str) else f"managed-{index}"
            aws.iam.RolePolicyAttachment(
                f"{name}-{label}", role=self.role.name, policy_arn=arn, opts=delete_first(self)
            )

        self.arn = self.role.arn
        self.role_name = self.role.name
        self.policy_arns = {purpose: p.arn for purpose, p in self.policies.items()}
        self.register_outputs({"arn": self.arn, "roleName": self.role_name})
