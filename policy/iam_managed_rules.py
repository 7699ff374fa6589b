"""IAM: AWS-managed policies. They are attached by ARN, are AWS's documents and are not in the
plan: which may be attached, and to which role, is an allowlist (`iam_allowlist.py`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from policy.iam_allowlist import AWS_MANAGED_POLICIES
from policy.iam_documents import (
    POLICY_ATTACHMENT,
    ROLE,
    ROLE_POLICY_ATTACHMENT,
    ROLE_POLICY_ATTACHMENTS_EXCLUSIVE,
    as_list,
    statements,
)
from policy.model import NotKnownError, Opaque, Resource, Stack, StackRule, reading

MANAGED_POLICY_HOLDERS = frozenset(
    {
        ROLE,
        ROLE_POLICY_ATTACHMENT,
        ROLE_POLICY_ATTACHMENTS_EXCLUSIVE,
        POLICY_ATTACHMENT,
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    }
)

_AWS_MANAGED = re.compile(r"arn:[^:]+:iam::aws:policy/(.+)")
_SERVICE = re.compile(r"([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?")
_SERVICE_ACCOUNT = "system:serviceaccount:"


def _trusted(role: Resource) -> set[str]:
    """Whom the role's trust admits: `service <name>` for a service principal (no DNS suffix),
    `service account <namespace>:<name>` for each IRSA `:sub` value (StringEquals, or a
    StringLike pattern as written); anything else as written (an account, `*`, a subject left
    open), which no AWS-managed policy's entry names."""
    trusted: set[str] = set()
    for _, statement in statements(role.document("assumeRolePolicy")):
        if statement.get("Effect") != "Allow":
            continue
        if "NotPrincipal" in statement:
            trusted.add(f"NotPrincipal {json.dumps(statement['NotPrincipal'], sort_keys=True)}")
        principal = statement.get("Principal")
        if not isinstance(principal, Mapping):
            trusted.add(f"Principal {json.dumps(principal)}")
            continue
        for kind, values in principal.items():
            for value in as_list(values):
                if kind == "Service" and (match := _SERVICE.fullmatch(str(value))):
                    trusted.add(f"service {match[1]}")
                elif kind == "Federated" and ":oidc-provider/" in str(value):
                    trusted.update(_subjects(str(value), statement.get("Condition")))
                else:
                    trusted.add(f"{kind} {value}")
    return trusted


def _subjects(provider: str, condition: Any) -> set[str]:
    sub = f"{provider.split(':oidc-provider/', 1)[1]}:sub".lower()
    values = [
        str(value)
        for operator, keys in (condition.items() if isinstance(condition, Mapping) else [])
        if operator in ("StringEquals", "StringLike") and isinstance(keys, Mapping)
        for key, listed in keys.items()
        if key.lower() == sub
        for value in as_list(listed)
    ]
    if not values:
        return {f"every service account of {provider}"}
    return {
        f"service account {value.removeprefix(_SERVICE_ACCOUNT)}"
        if value.startswith(_SERVICE_ACCOUNT)
        else f"subject {value}"
        for value in values
    }


def _purpose(name: str) -> set[str]:
    use = AWS_MANAGED_POLICIES[name]
    return {f"service {s}" for s in use.services} | {
        f"service account {a}" for a in use.service_accounts
    }


def _judge_managed(arn: Any, where: str, role: Resource | None, whom: str) -> Iterator[str]:
    """A message if `arn` is an AWS-managed policy the allowlist does not give `role` (None: a
    principal that is no role of the stack, `whom`). `where` begins each message."""
    match = _AWS_MANAGED.fullmatch(arn) if isinstance(arn, str) else None
    if match is None:
        return  # customer-managed: its document is judged where it is defined
    if match[1] not in AWS_MANAGED_POLICIES:
        yield (
            f"{where}{arn!r} is an AWS-managed policy policy/iam_allowlist.py does not list: "
            "grant the actions needed in a customer-managed policy, or list it with the role "
            "it is for and the reason"
        )
        return
    purpose = _purpose(match[1])
    meant = f"{arn!r} is for a role only {' or '.join(sorted(purpose))} assumes"
    if role is None:
        yield f"{where}{meant}, not for {whom}"
        return
    with reading(role):
        trusted = _trusted(role)
    if not trusted or not trusted <= purpose:
        others = ", ".join(sorted(trusted - purpose)) or "no one"
        name = role.props.get("name")
        role_name = name if isinstance(name, str) else role.name
        yield f"{where}{meant}; the trust of {role_name} admits {others}"


def _role_named_by(holder: Resource, stack: Stack, key: str) -> Resource | None:
    roles = stack.referred_by(holder, key, {ROLE}, "name")
    return roles[0] if roles else None


def _role_named(stack: Stack, name: str) -> Resource | None:
    for role in stack.of_type({ROLE}):
        with reading(role):
            if role.get("name") == name:
                return role
    return None


_OUTSIDE = "a role this stack does not define"


def _check_aws_managed_policies(resource: Resource, stack: Stack) -> Iterator[str]:
    if resource.type == ROLE:
        for arn in resource.items("managedPolicyArns"):
            yield from _judge_managed(arn, "managedPolicyArns: ", resource, "")
        return
    if resource.type == ROLE_POLICY_ATTACHMENTS_EXCLUSIVE:
        arns = [resource.get("policyArns", i) for i in range(len(resource.items("policyArns")))]
        if any(isinstance(arn, str) and _AWS_MANAGED.fullmatch(arn) for arn in arns):
            role = _role_named_by(resource, stack, "roleName")
            for arn in arns:
                yield from _judge_managed(arn, "", role, _OUTSIDE)
        return
    arn = resource.peek("policyArn")
    if isinstance(arn, Opaque):
        if resource.property_dependencies.get("policyArn"):
            return  # the ARN of a policy of this stack, created with it: customer-managed
        raise NotKnownError("policyArn", arn)
    if not (isinstance(arn, str) and _AWS_MANAGED.fullmatch(arn)):
        return
    if resource.type == ROLE_POLICY_ATTACHMENT:
        yield from _judge_managed(arn, "", _role_named_by(resource, stack, "role"), _OUTSIDE)
    elif resource.type == POLICY_ATTACHMENT:
        for index in range(len(resource.items("roles"))):
            name = resource.get("roles", index)
            role = _role_named(stack, name)
            yield from _judge_managed(arn, f"roles[{index}] ({name}): ", role, _OUTSIDE)
        for kind in ("users", "groups"):
            if resource.items(kind):
                yield from _judge_managed(arn, f"{kind}: ", None, kind)
    else:
        yield from _judge_managed(arn, "", None, "a user or a group")


RULES = (
    StackRule(
        name="iam-aws-managed-policies",
        description=(
            "An AWS-managed policy is attached only if policy/iam_allowlist.py lists it, and "
            "only to a role whose trust admits no one but the principals its entry names."
        ),
        types=MANAGED_POLICY_HOLDERS,
        check=_check_aws_managed_policies,
    ),
)
