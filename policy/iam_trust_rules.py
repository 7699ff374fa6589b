"""IAM: whom roles trust. An IRSA trust conditions the token's audience and subject; no trust
admits everyone, or principals of another account that policy/iam_allowlist.py does not list.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from policy.iam_actions import glob_regex, has_wildcard
from policy.iam_allowlist import FOREIGN_PRINCIPALS
from policy.iam_documents import ROLE, as_list, statements
from policy.model import Resource, ResourceRule, Stack, StackRule, reading

# The audience the EKS pod identity webhook puts in projected tokens, in every partition.
STS_AUDIENCE = "sts.amazonaws.com"
_WEB_IDENTITY = "sts:assumerolewithwebidentity"
# A `:sub` pattern that names its namespace: a wildcard only in the service account's name
# (neither a namespace nor a name holds a colon).
_PINNED_SUBJECT = re.compile(r"system:serviceaccount:[^:*?]+:[^:]+")


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
    loose = [
        value
        for value in patterns
        if isinstance(value, str) and has_wildcard(value) and not _PINNED_SUBJECT.fullmatch(value)
    ]
    if loose:
        yield (
            f"{where}: StringLike on `{issuer}:sub` for {json.dumps(loose)}, which does not pin "
            "the namespace: write `system:serviceaccount:<namespace>:<name>` with no wildcard "
            "before the name"
        )


def _matches(patterns: Any, action: str) -> bool:
    return any(
        glob_regex(pattern.strip().lower()).fullmatch(action)
        for pattern in as_list(patterns)
        if isinstance(pattern, str)
    )


def _may(statement: Mapping[str, Any], action: str) -> bool:
    """Whether the statement names `action` (lower case): an `Action` pattern matches it, or a
    `NotAction` none of whose patterns does (NotAction allows every action it does not list)."""
    if "NotAction" in statement and not _matches(statement["NotAction"], action):
        return True
    return _matches(statement.get("Action"), action)


def _check_irsa_trust(resource: Resource) -> Iterator[str]:
    for where, statement in statements(resource.document("assumeRolePolicy")):
        principal = statement.get("Principal")
        federated = as_list(principal.get("Federated")) if isinstance(principal, Mapping) else []
        issuers = [
            arn.split(":oidc-provider/", 1)[1]
            for arn in federated
            if isinstance(arn, str) and ":oidc-provider/" in arn
        ]
        if statement.get("Effect") != "Allow" or not issuers or not _may(statement, _WEB_IDENTITY):
            continue
        for issuer in issuers:
            yield from _irsa_conditions(f"trust {where}", issuer, statement.get("Condition"))


def _everyone_in(principal: Any) -> list[str]:
    """What in a Principal element stands for everyone: `"*"`, or `*` as a principal's value."""
    if principal == "*":
        return ['"*"']
    if not isinstance(principal, Mapping):
        return []
    return [json.dumps({kind: "*"}) for kind, values in principal.items() if "*" in as_list(values)]


def _check_trust_principals(resource: Resource) -> Iterator[str]:
    for where, statement in statements(resource.document("assumeRolePolicy")):
        if statement.get("Effect") != "Allow":
            continue
        if "NotPrincipal" in statement:
            yield (
                f"trust {where}: Allow with NotPrincipal lets every principal it does not list "
                "assume the role; name the principals"
            )
        if "NotAction" in statement:
            yield (
                f"trust {where}: Allow with NotAction lets its principals assume the role in "
                "every way it does not list (sts:AssumeRoleWithWebIdentity, "
                "sts:AssumeRoleWithSAML, ...), past the conditions those need; name the actions"
            )
        if everyone := _everyone_in(statement.get("Principal")):
            yield (
                f"trust {where}: Principal {', '.join(everyone)} lets any AWS account (or "
                "anyone) assume the role, whatever its conditions; name the principals"
            )


STACK = "pulumi:pulumi:Stack"
ACCOUNT_OUTPUT = "accountId"
_ACCOUNT = re.compile(r"\d{12}")
# An IAM principal's ARN (a root, role, user, assumed-role session, or an identity provider):
# the account is its fifth field.
_PRINCIPAL_ARN = re.compile(r"arn:[^:]+:(?:iam|sts)::([^:]*):.+")


def _account_of(principal: str) -> str | None:
    """The account a principal of type AWS (or a Federated provider ARN) is in; None when it
    names none (a wildcard or a malformed value)."""
    if _ACCOUNT.fullmatch(principal):
        return principal
    match = _PRINCIPAL_ARN.fullmatch(principal)
    return match[1] if match and _ACCOUNT.fullmatch(match[1]) else None


def _stack_account(stack: Stack) -> str | None:
    """The stack's account: the `accountId` output of its root resource (the caller identity
    the program exports). None when the stack exports none."""
    for root in stack.of_type({STACK}):
        with reading(root):
            value = root.get(ACCOUNT_OUTPUT)
        if isinstance(value, str) and _ACCOUNT.fullmatch(value):
            return value
    return None


def _own_account(role: Resource, stack: Stack) -> str | None:
    """The stack's account (`_stack_account`), else the account in the role's own ARN: the real
    engine hands stack validation each resource's outputs, so a created role's `arn` is there
    even if the program exported no `accountId`."""
    account = _stack_account(stack)
    if account is None:
        own = role.peek("arn")
        if isinstance(own, str):
            account = _account_of(own)
    return account


def _check_trust_accounts(role: Resource, stack: Stack) -> Iterator[str]:
    account: str | None = None
    for where, statement in statements(role.document("assumeRolePolicy")):
        principal = statement.get("Principal")
        if statement.get("Effect") != "Allow" or not isinstance(principal, Mapping):
            continue
        for kind in ("AWS", "Federated"):
            for value in as_list(principal.get(kind)):
                if value == "*" or (kind == "Federated" and not str(value).startswith("arn:")):
                    continue  # everyone is the wildcard rule's; a web identity IdP is no account
                named = f"trust {where}: Principal {json.dumps({kind: value})}"
                if str(value).split(":", 2)[-1] in FOREIGN_PRINCIPALS:
                    continue
                owner = _account_of(str(value))
                if owner is None:
                    yield f"{named} names no account: name a principal of the stack's account"
                    continue
                account = account or _own_account(role, stack)
                if account is None:
                    yield (
                        f"{named}: the stack's account cannot be told (the stack exports no "
                        f"`{ACCOUNT_OUTPUT}` and the role's ARN is not known), so neither can "
                        f"whether {owner} is foreign"
                    )
                elif owner != account:
                    yield (
                        f"{named} is in account {owner}, not the stack's ({account}): name a "
                        "principal of this account, or allowlist it with the reason in "
                        "policy/iam_allowlist.py"
                    )


RULES = (
    ResourceRule(
        name="iam-irsa-trust-conditions",
        description=(
            "A role trusted through an EKS OIDC provider conditions `:aud` (StringEquals "
            "sts.amazonaws.com) and `:sub` (StringEquals, or StringLike for a pattern with a "
            "literal namespace)."
        ),
        types=frozenset({ROLE}),
        check=_check_irsa_trust,
    ),
    ResourceRule(
        name="iam-trust-no-wildcard-principal",
        description=(
            'A role\'s trust never allows `Principal: "*"`, `{"AWS": "*"}` (any principal type '
            "`*`), nor NotPrincipal or NotAction in an Allow."
        ),
        types=frozenset({ROLE}),
        check=_check_trust_principals,
    ),
    StackRule(
        name="iam-trust-own-account",
        description=(
            "A role's trust admits principals of type AWS (and Federated provider ARNs) only of "
            "the stack's account (its `accountId` output, else the account in the role's own "
            "ARN), unless policy/iam_allowlist.py lists them with a reason."
        ),
        types=frozenset({ROLE}),
        check=_check_trust_accounts,
    ),
)
