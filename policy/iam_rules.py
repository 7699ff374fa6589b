"""IAM: what identity policies grant, whom IRSA roles trust, and IAM's size quotas.

Identity policies are the documents that say what a principal may do: customer-managed policies,
inline role (user, group) policies and a role's `inlinePolicies`. Resource policies (a key's
policy, a bucket's) are not judged by the grant rules: the default key policy's `kms:*` for the
account root delegates the key to IAM, and the bucket policy is a Deny (`s3_rules.py`).
AWS-managed policies attached by ARN are AWS's documents and are not in the plan.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from policy.iam_actions import glob_regex, has_wildcard, resolve_action
from policy.iam_allowlist import STAR_ALLOWLIST
from policy.iam_limits import (
    MANAGED_POLICY_MAX,
    ROLE_INLINE_POLICIES_MAX,
    ROLE_MANAGED_POLICIES_MAX,
    TRUST_POLICY_MAX,
    iam_size,
)
from policy.model import Resource, ResourceRule, Stack, StackRule, reading

ROLE = "aws:iam/role:Role"
MANAGED_POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ROLE_POLICY_ATTACHMENTS_EXCLUSIVE = (
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
)
IDENTITY_POLICY_TYPES = frozenset(
    {
        MANAGED_POLICY,
        ROLE_POLICY,
        "aws:iam/userPolicy:UserPolicy",
        "aws:iam/groupPolicy:GroupPolicy",
        ROLE,
    }
)

# The audience the EKS pod identity webhook puts in projected tokens, in every partition.
STS_AUDIENCE = "sts.amazonaws.com"
_WEB_IDENTITY = "sts:assumerolewithwebidentity"
_STAR_ALLOWED = frozenset(action.lower() for action in STAR_ALLOWLIST)
_MAX_LISTED = 5


def as_list(value: Any) -> list[Any]:
    """A policy element that may be one value or a list, as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _short(items: list[str]) -> str:
    text = ", ".join(items[:_MAX_LISTED])
    return text + (f", ... ({len(items)} in all)" if len(items) > _MAX_LISTED else "")


def statements(document: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Each statement with where it is: `Statement[2] (Sid)`."""
    if not isinstance(document, Mapping):
        return
    for index, statement in enumerate(as_list(document.get("Statement"))):
        if isinstance(statement, Mapping):
            sid = statement.get("Sid")
            yield f"Statement[{index}]" + (f" ({sid})" if sid else ""), statement


def identity_documents(resource: Resource) -> Iterator[tuple[str, Any]]:
    """The identity policies a resource holds, each with a label for messages."""
    if resource.type == ROLE:
        for index in range(len(resource.items("inlinePolicies"))):
            document = resource.document("inlinePolicies", index, "policy")
            if document is not None:
                yield f"inline policy {resource.get('inlinePolicies', index, 'name')}", document
        return
    document = resource.document("policy")
    if document is not None:
        yield "policy", document


def _allows(resource: Resource) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for label, document in identity_documents(resource):
        for where, statement in statements(document):
            if statement.get("Effect") == "Allow":
                yield f"{label} {where}", statement


def _every_action_of(action: str) -> str | None:
    """`"*"` -> every service; `"s3:*"` -> `s3`; a narrower action -> None."""
    if action.strip() == "*":
        return "every service"
    service, _, name = action.partition(":")
    return service if name.strip() == "*" else None


def _check_wildcard_actions(resource: Resource) -> Iterator[str]:
    for where, statement in _allows(resource):
        if "NotAction" in statement:
            yield (
                f"{where}: Allow with NotAction grants every action it does not list; "
                "list the actions the principal needs"
            )
        for action in as_list(statement.get("Action")):
            if isinstance(action, str) and (scope := _every_action_of(action)) is not None:
                yield (
                    f"{where}: allows {action!r}, every action of {scope}; "
                    "list the actions the principal needs"
                )


def _check_star_resource(resource: Resource) -> Iterator[str]:
    for where, statement in _allows(resource):
        if "NotResource" in statement:
            yield (
                f"{where}: Allow with NotResource reaches every resource it does not list; "
                "list the resources"
            )
        if "*" not in as_list(statement.get("Resource")):
            continue
        for action in as_list(statement.get("Action")):
            if not isinstance(action, str) or action == "*" or action.lower() in _STAR_ALLOWED:
                continue  # `*` is the wildcard rule's to report
            infos, error = resolve_action(action)
            if error is not None:
                yield (
                    f"{where}: Resource '*' on {error}: whether it takes a resource ARN "
                    "cannot be told"
                )
                continue
            scoped = sorted(
                info.name
                for info in infos
                if not info.needs_star and info.name.lower() not in _STAR_ALLOWED
            )
            if scoped:
                matching = f" (matching {_short(scoped)})" if has_wildcard(action) else ""
                yield (
                    f"{where}: Resource '*' on {action!r}{matching}, which takes resource "
                    "ARNs: scope it to them, or allowlist it with the reason in "
                    "policy/iam_allowlist.py"
                )


def _irsa_conditions(where: str, issuer: str, condition: Any) -> Iterator[str]:
    operators: dict[str, dict[str, Any]] = {
        operator: {key.lower(): value for key, value in keys.items()}
        for operator, keys in (condition.items() if isinstance(condition, Mapping) else [])
        if isinstance(keys, Mapping)
    }
    aud, sub = f"{issuer}:aud".lower(), f"{issuer}:sub".lower()
    if as_list(operators.get("StringEquals", {}).get(aud)) != [STS_AUDIENCE]:
        found = {op: keys[aud] for op, keys in operators.items() if aud in keys}
        yield (
            f"{where}: the trust of {issuer} must condition `{issuer}:aud` with StringEquals "
            f"{STS_AUDIENCE!r} (found {json.dumps(found, sort_keys=True) if found else 'none'})"
        )
    exact = as_list(operators.get("StringEquals", {}).get(sub))
    patterns = as_list(operators.get("StringLike", {}).get(sub))
    if not exact and not patterns:
        yield (
            f"{where}: the trust of {issuer} does not condition `{issuer}:sub` with "
            "StringEquals (or StringLike): any service account of the cluster could assume "
            "the role"
        )
    plain = [value for value in patterns if not (isinstance(value, str) and has_wildcard(value))]
    if plain:
        yield (
            f"{where}: StringLike on `{issuer}:sub` for {json.dumps(plain)}, which has no `*` "
            "or `?`: use StringEquals"
        )


def _check_irsa_trust(resource: Resource) -> Iterator[str]:
    for where, statement in statements(resource.document("assumeRolePolicy")):
        principal = statement.get("Principal")
        federated = as_list(principal.get("Federated")) if isinstance(principal, Mapping) else []
        issuers = [
            arn.split(":oidc-provider/", 1)[1]
            for arn in federated
            if isinstance(arn, str) and ":oidc-provider/" in arn
        ]
        actions = [a.lower() for a in as_list(statement.get("Action")) if isinstance(a, str)]
        web_identity = any(glob_regex(action).fullmatch(_WEB_IDENTITY) for action in actions)
        if statement.get("Effect") != "Allow" or not issuers or not web_identity:
            continue
        for issuer in issuers:
            yield from _irsa_conditions(f"trust {where}", issuer, statement.get("Condition"))


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
        name="iam-no-wildcard-actions",
        description=(
            "An identity policy never allows `*` or `<service>:*` (nor uses NotAction in an "
            "Allow): every grant lists its actions."
        ),
        types=IDENTITY_POLICY_TYPES,
        check=_check_wildcard_actions,
    ),
    ResourceRule(
        name="iam-star-resource-scoped",
        description=(
            'An identity policy allows `Resource: "*"` only for actions that take no resource '
            "ARN (IAM database) or that policy/iam_allowlist.py lists with a reason."
        ),
        types=IDENTITY_POLICY_TYPES,
        check=_check_star_resource,
    ),
    ResourceRule(
        name="iam-irsa-trust-conditions",
        description=(
            "A role trusted through an EKS OIDC provider conditions `:aud` (StringEquals "
            "sts.amazonaws.com) and `:sub` (StringEquals, or StringLike for a pattern)."
        ),
        types=frozenset({ROLE}),
        check=_check_irsa_trust,
    ),
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
