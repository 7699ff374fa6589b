"""The IAM of a recorded plan, role by role: trust, policies, AWS-managed policies, EKS access.

Read from the recorded resources only (their inputs and the mocks' outputs), in a fixed order,
so that what is printed from it is the same every run whatever order the SDK registered in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from naming import Role, split_role_name
from offline_preview.engine import RecordedResource, Recording

ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
INLINE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ACCESS_POLICY = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"


@dataclass(frozen=True)
class PlannedPolicy:
    name: str
    arn: str
    text: str
    """The document as the plan renders it (compact JSON)."""
    inline: bool = False

    @property
    def document(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.text)
        return parsed


SERVICE_ACCOUNT = "ServiceAccount"


@dataclass(frozen=True, order=True)
class Principal:
    kind: str
    """`Service`, `AWS`, `Federated`, or `ServiceAccount` (`<namespace>:<name>`, through IRSA)."""
    name: str


@dataclass(frozen=True)
class ClusterAccess:
    """An EKS access policy associated with a role (the bastion's cluster admin)."""

    cluster: str
    policy_arn: str
    scope: str


@dataclass(frozen=True)
class PlannedRole:
    resource: RecordedResource
    name: str
    arn: str
    description: str
    trust_text: str
    prefix: str | None
    """The deployment prefix in the role's name, for a role the program names."""
    role: Role | None
    policies: tuple[PlannedPolicy, ...]
    """Customer-managed policies attached (by name), then inline ones."""
    managed_policy_arns: tuple[str, ...]
    """Attached policies the plan does not create: AWS-managed ones (by ARN)."""
    cluster_access: tuple[ClusterAccess, ...]

    @property
    def trust(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.trust_text)
        return parsed

    @property
    def principals(self) -> list[Principal]:
        """Who may assume the role: AWS services and accounts as the trust names them, and for
        an IRSA trust the service accounts its `:sub` condition names (else the provider)."""
        found = set()
        for stmt in self.trust.get("Statement", []):
            principal = stmt.get("Principal", {})
            for kind in ("Service", "AWS"):
                found |= {Principal(kind, str(v)) for v in as_list(principal.get(kind, []))}
            if "Federated" not in principal:
                continue
            subjects = {
                str(subject).removeprefix("system:serviceaccount:")
                for values in stmt.get("Condition", {}).values()
                for key, value in values.items()
                if key.endswith(":sub")
                for subject in as_list(value)
            }
            found |= {Principal(SERVICE_ACCOUNT, s) for s in subjects}
            if not subjects:
                found |= {Principal("Federated", str(v)) for v in as_list(principal["Federated"])}
        return sorted(found)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def planned_roles(recording: Recording) -> list[PlannedRole]:
    """Every role of the plan, by name."""
    policies = {str(p.outputs.get("arn")): p for p in recording.by_type(POLICY)}
    roles = []
    for resource in recording.by_type(ROLE):
        name = str(resource.outputs.get("name", resource.name))
        arn = str(resource.outputs.get("arn", ""))
        attached = sorted(
            str(a.inputs.get("policyArn"))
            for a in recording.by_type(ATTACHMENT)
            if a.inputs.get("role") == name
        )
        owned = sorted(
            (
                PlannedPolicy(
                    str(policies[arn_].outputs.get("name")),
                    arn_,
                    _text(policies[arn_].inputs["policy"]),
                )
                for arn_ in attached
                if arn_ in policies
            ),
            key=lambda p: p.name,
        )
        inline = sorted(
            (
                PlannedPolicy(
                    str(r.inputs.get("name", r.name)), "", _text(r.inputs["policy"]), inline=True
                )
                for r in recording.by_type(INLINE_POLICY)
                if r.inputs.get("role") == name
            ),
            key=lambda p: p.name,
        )
        access = sorted(
            (
                ClusterAccess(
                    str(a.inputs.get("clusterName")),
                    str(a.inputs.get("policyArn")),
                    str((a.inputs.get("accessScope") or {}).get("type", "")),
                )
                for a in recording.by_type(ACCESS_POLICY)
                if a.inputs.get("principalArn") == arn
            ),
            key=lambda a: (a.cluster, a.policy_arn),
        )
        split = split_role_name(name)
        roles.append(
            PlannedRole(
                resource=resource,
                name=name,
                arn=arn,
                description=str(resource.inputs.get("description", "")),
                trust_text=_text(resource.inputs["assumeRolePolicy"]),
                prefix=split[0] if split else None,
                role=split[1] if split else None,
                policies=(*owned, *inline),
                managed_policy_arns=tuple(a for a in attached if a not in policies),
                cluster_access=tuple(access),
            )
        )
    return sorted(roles, key=lambda r: r.name)


def unattached_policies(recording: Recording) -> list[PlannedPolicy]:
    """Customer-managed policies the plan attaches to no role (a permissions boundary)."""
    attached = {str(a.inputs.get("policyArn")) for a in recording.by_type(ATTACHMENT)}
    return sorted(
        (
            PlannedPolicy(
                str(p.outputs.get("name")), str(p.outputs.get("arn")), _text(p.inputs["policy"])
            )
            for p in recording.by_type(POLICY)
            if str(p.outputs.get("arn")) not in attached
        ),
        key=lambda p: p.name,
    )


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
