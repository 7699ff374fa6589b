"""IAM: the size and count quotas IAM enforces on policies and roles (`iam_limits.py`), checked
before `pulumi up` runs into them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from policy.iam_documents import (
    MANAGED_POLICY,
    ROLE,
    ROLE_POLICY,
    ROLE_POLICY_ATTACHMENT,
    ROLE_POLICY_ATTACHMENTS_EXCLUSIVE,
)
from policy.iam_limits import (
    MANAGED_POLICY_MAX,
    ROLE_INLINE_POLICIES_MAX,
    ROLE_MANAGED_POLICIES_MAX,
    TRUST_POLICY_MAX,
    iam_size,
)
from policy.model import Resource, ResourceRule, Stack, StackRule, reading


def _size(document: Any) -> int:
    text = document if isinstance(document, str) else json.dumps(document, separators=(",", ":"))
    return iam_size(text)


def _check_managed_policy_size(resource: Resource) -> Iterator[str]:
    policy = resource.get("policy")
    if policy is not None and (size := _size(policy)) > MANAGED_POLICY_MAX:
        yield (
            f"the policy is {size:,} characters without whitespace; IAM allows "
            f"{MANAGED_POLICY_MAX:,} per managed policy: split it"
        )


def _check_trust_policy_size(resource: Resource) -> Iterator[str]:
    trust = resource.get("assumeRolePolicy")
    if trust is not None and (size := _size(trust)) > TRUST_POLICY_MAX:
        yield (
            f"the trust policy is {size:,} characters without whitespace; IAM allows "
            f"{TRUST_POLICY_MAX:,} (the default quota)"
        )


def _check_inline_policies_size(role: Resource, stack: Stack) -> Iterator[str]:
    # By name: once the role exists, its `inlinePolicies` output also lists the policies of its
    # RolePolicy resources; a policy whose name is not known yet counts under where it is.
    sizes: dict[str, int] = {}
    for index in range(len(role.items("inlinePolicies"))):
        if (policy := role.get("inlinePolicies", index, "policy")) is not None:
            name = role.peek("inlinePolicies", index, "name")
            sizes[name if isinstance(name, str) else f"inlinePolicies[{index}]"] = _size(policy)
    for inline in stack.referring_to(role, {ROLE_POLICY}, "role", "name"):
        with reading(inline):
            if (policy := inline.get("policy")) is not None:
                name = inline.props.get("name")
                sizes[name if isinstance(name, str) else inline.urn] = _size(policy)
    if (total := sum(sizes.values())) > ROLE_INLINE_POLICIES_MAX:
        yield (
            f"its {len(sizes)} inline policies are {total:,} characters without whitespace; "
            f"IAM allows {ROLE_INLINE_POLICIES_MAX:,} per role: move some to managed policies"
        )


def _check_managed_policy_count(role: Resource, stack: Stack) -> Iterator[str]:
    # An ARN not known yet still counts once: where it is written stands in for it.
    attached: set[str] = set()

    def attach(arns: list[Any], where: str) -> None:
        attached.update(a if isinstance(a, str) else f"{where}[{i}]" for i, a in enumerate(arns))

    attach(role.items("managedPolicyArns"), f"{role.urn} managedPolicyArns")
    for attachment in stack.referring_to(role, {ROLE_POLICY_ATTACHMENT}, "role", "name"):
        attach([attachment.props.get("policyArn")], f"{attachment.urn} policyArn")
    exclusive = stack.referring_to(role, {ROLE_POLICY_ATTACHMENTS_EXCLUSIVE}, "roleName", "name")
    for attachments in exclusive:
        with reading(attachments):
            attach(attachments.items("policyArns"), f"{attachments.urn} policyArns")
    if len(attached) > ROLE_MANAGED_POLICIES_MAX:
        yield (
            f"{len(attached)} managed policies are attached; IAM allows "
            f"{ROLE_MANAGED_POLICIES_MAX} per role (the default quota): merge some"
        )


RULES = (
    ResourceRule(
        name="iam-managed-policy-size",
        description=(
            f"A managed policy is at most {MANAGED_POLICY_MAX:,} characters without whitespace "
            "(IAM quota)."
        ),
        types=frozenset({MANAGED_POLICY}),
        check=_check_managed_policy_size,
    ),
    ResourceRule(
        name="iam-trust-policy-size",
        description=(
            f"A role's trust policy is at most {TRUST_POLICY_MAX:,} characters without "
            "whitespace (IAM quota)."
        ),
        types=frozenset({ROLE}),
        check=_check_trust_policy_size,
    ),
    StackRule(
        name="iam-role-inline-policies-size",
        description=(
            f"A role's inline policies together are at most {ROLE_INLINE_POLICIES_MAX:,} "
            "characters without whitespace (IAM quota)."
        ),
        types=frozenset({ROLE}),
        check=_check_inline_policies_size,
    ),
    StackRule(
        name="iam-role-managed-policy-count",
        description=(
            f"A role has at most {ROLE_MANAGED_POLICIES_MAX} managed policies attached (IAM quota)."
        ),
        types=frozenset({ROLE}),
        check=_check_managed_policy_count,
    ),
)
