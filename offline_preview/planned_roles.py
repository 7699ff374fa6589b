"""A recording's roles as the preview prints them: the view of the one reading of a plan's IAM
(`offline_preview.iam_plan`) that the text plan, the review document and the key policy
statements print from.

`planned_roles`, `unattached_policies`: each role with its documents as the plan renders them,
ARNs from the mocks, and its EKS access policies, in a fixed order, so that what is printed from
it is the same every run whatever order the SDK registered in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from naming import Role, split_role_name
from offline_preview.engine import RecordedResource, Recording
from offline_preview.iam_plan import Plan, State, as_list
from offline_preview.iam_types import ACCESS_POLICY, POLICY


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


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


def _recorded(recording: Recording) -> Plan:
    return Plan(State(r.type, r.urn, r.inputs, r.outputs, r) for r in recording.resources)


def _planned_policy(state: State) -> PlannedPolicy:
    return PlannedPolicy(state.name, str(state.outputs.get("arn")), _text(state.inputs["policy"]))


def planned_roles(recording: Recording) -> list[PlannedRole]:
    """Every role the plan creates, by name."""
    plan = _recorded(recording)
    access = plan.of(ACCESS_POLICY)
    roles = []
    for holdings in plan.roles.values():
        state = holdings.state
        if state is None or state.resource is None:
            continue  # a role the plan attaches to and does not create: it prints none
        arn = str(state.outputs.get("arn", ""))
        attached = sorted(holdings.attached)
        owned = sorted(
            (_planned_policy(policy) for a in attached if (policy := plan.policy(a)) is not None),
            key=lambda p: p.name,
        )
        inline = sorted(
            (PlannedPolicy(i.name, "", _text(i.document), inline=True) for i in holdings.inline),
            key=lambda p: p.name,
        )
        cluster_access = sorted(
            (
                ClusterAccess(
                    str(a.inputs.get("clusterName")),
                    str(a.inputs.get("policyArn")),
                    str((a.inputs.get("accessScope") or {}).get("type", "")),
                )
                for a in access
                if a.inputs.get("principalArn") == arn
            ),
            key=lambda a: (a.cluster, a.policy_arn),
        )
        split = split_role_name(holdings.name)
        roles.append(
            PlannedRole(
                resource=state.resource,
                name=holdings.name,
                arn=arn,
                description=str(state.inputs.get("description", "")),
                trust_text=_text(state.inputs["assumeRolePolicy"]),
                prefix=split[0] if split else None,
                role=split[1] if split else None,
                policies=(*owned, *inline),
                managed_policy_arns=tuple(a for a in attached if plan.policy(a) is None),
                cluster_access=tuple(cluster_access),
            )
        )
    return sorted(roles, key=lambda r: r.name)


def unattached_policies(recording: Recording) -> list[PlannedPolicy]:
    """Customer-managed policies the plan attaches to no role (a permissions boundary)."""
    plan = _recorded(recording)
    attached = plan.attached_policies()
    return sorted(
        (_planned_policy(s) for s in plan.of(POLICY) if s.urn not in attached),
        key=lambda p: p.name,
    )
