"""IAM: what identity policies grant.

Identity policies are the documents that say what a principal may do: customer-managed policies,
inline role (user, group) policies and a role's `inlinePolicies`. Resource policies (a key's
policy, a bucket's) are not judged here: the default key policy's `kms:*` for the account root
delegates the key to IAM, and the bucket policy is a Deny (`storage_rules.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from policy.iam_actions import has_wildcard, resolve_action
from policy.iam_allowlist import ANY_ACCOUNT_ALLOWLIST, STAR_ALLOWLIST
from policy.iam_documents import MANAGED_POLICY, ROLE, ROLE_POLICY, as_list, statements
from policy.model import Resource, ResourceRule

IDENTITY_POLICY_TYPES = frozenset(
    {
        MANAGED_POLICY,
        ROLE_POLICY,
        "aws:iam/userPolicy:UserPolicy",
        "aws:iam/groupPolicy:GroupPolicy",
        ROLE,
    }
)
_STAR_ALLOWED = frozenset(action.lower() for action in STAR_ALLOWLIST)
_MAX_LISTED = 5


def _short(items: list[str]) -> str:
    text = ", ".join(items[:_MAX_LISTED])
    return text + (f", ... ({len(items)} in all)" if len(items) > _MAX_LISTED else "")


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


_WILDCARDS = frozenset("*?")


def _only_wildcards(text: str, separators: str = "") -> bool:
    """Whether `text` is wildcards (with a `*`) and `separators` only: it names nothing."""
    return "*" in text and set(text) <= _WILDCARDS | set(separators)


def _every_action_of(action: str) -> str | None:
    """Whose every action the pattern matches: `"*"`, `"*?"`, `"*:*"` -> every service;
    `"s3:*"`, `"iam:?*"` -> `s3`, `iam`; `"s3*"` -> the services it matches; a narrower action
    -> None.

    A trailing run of wildcards with a `*` matches every action name (an action name is never
    empty); what comes before it must then name no action, only a service prefix: nothing, a
    prefix and its colon, or the start of a prefix (the `*` runs on across the colon)."""
    pattern = action.strip().lower()
    head = pattern.rstrip("*?")
    if "*" not in pattern[len(head) :]:
        return None
    service, colon, name = head.partition(":")
    if name:
        return None  # an action name begins: narrower than a service
    if not service or _only_wildcards(service):
        return "every service"
    if colon and not has_wildcard(service):
        return service
    return f"every service matching {(service if colon else service + '*')!r}"


# The shortest verbs IAM action names begin with (`Get`, `Put`, `Tag`) are three letters.
VERB_MIN = 3


def _verbless(action: str) -> bool:
    """Whether a pattern's action name has a wildcard within its first `VERB_MIN` characters:
    it fixes no verb (`iam:*e`, `s3:?etObject`, `iam:De*`), so it crosses reads and writes."""
    _, _, name = action.strip().partition(":")
    return has_wildcard(name[:VERB_MIN])


def _check_wildcard_actions(resource: Resource) -> Iterator[str]:
    fix = "list the actions the principal needs"
    for where, statement in _allows(resource):
        if "NotAction" in statement:
            yield (
                f"{where}: Allow with NotAction grants every action it does not list; "
                "list the actions the principal needs"
            )
        for action in as_list(statement.get("Action")):
            if not isinstance(action, str):
                continue
            if (scope := _every_action_of(action)) is not None:
                yield f"{where}: allows {action!r}, every action of {scope}; {fix}"
            elif has_wildcard(action.partition(":")[0]):
                yield (
                    f"{where}: allows {action!r}, whose service prefix has a wildcard: it "
                    f"reaches services nobody reviewed, and those AWS adds; {fix}"
                )
            elif _verbless(action):
                infos, _ = resolve_action(action)
                matching = f" (matching {_short(sorted(i.name for i in infos))})" if infos else ""
                yield (
                    f"{where}: allows {action!r}{matching}, whose action name has a wildcard in "
                    f"its first {VERB_MIN} characters: it fixes no verb, so it spans reads and "
                    f"writes; {fix}, or begin the pattern with its verb (`Get*`)"
                )


_STAR = "star"
_ANY_ACCOUNT = "any account"


def _resource_reach(resource: str) -> str | None:
    """`_STAR` when a resource pattern is as good as `*`: `*` (or only wildcards and
    separators: `**`, `*/*`), an ARN cut short by a `*` that runs on to its end (`arn:*`,
    `arn:<p>:s3:*`), a wildcard service, or a wildcard in the resource part before its first `/`
    or `:`, where the resource type is named (`arn:<p>:kms:<region>:<account>:*`,
    `arn:<p>:iam::<account>:*e*`) or, in S3, the bucket (`arn:<p>:s3:::*a*/*`: bucket names are
    global, so a pattern reaches the matching buckets of every account). `_ANY_ACCOUNT` when the
    account
    field has a wildcard (`arn:<p>:iam::*:role/*`). None otherwise: a wildcard region (Bedrock's
    foundation models are in every region, owned by no account) or a wildcard within a named
    resource type is a scope."""
    text = resource.strip()
    if _only_wildcards(text, "/:"):
        return _STAR
    parts = text.split(":", 5)
    if parts[0].lower() != "arn":
        return None  # neither `*` nor an ARN: IAM refuses the policy
    if len(parts) < 6:
        return _STAR if "*" in parts[-1] else None
    _, _, service, _, account, rest = parts
    if has_wildcard(service) or has_wildcard(re.split(r"[/:]", rest, maxsplit=1)[0]):
        return _STAR
    return _ANY_ACCOUNT if has_wildcard(account) else None


def _without_partition(resource: str) -> str:
    return resource.strip().split(":", 2)[2]


def _check_star_resource(resource: Resource) -> Iterator[str]:
    allowlist = "allowlist it with the reason in policy/iam_allowlist.py"
    for where, statement in _allows(resource):
        if "NotResource" in statement:
            yield (
                f"{where}: Allow with NotResource reaches every resource it does not list; "
                "list the resources"
            )
        actions = [
            a
            for a in as_list(statement.get("Action"))
            if isinstance(a, str) and _every_action_of(a) != "every service"
        ]  # every action of every service is the wildcard rule's to report
        for pattern in as_list(statement.get("Resource")):
            if not isinstance(pattern, str) or (reach := _resource_reach(pattern)) is None:
                continue
            if reach == _ANY_ACCOUNT:
                entry = ANY_ACCOUNT_ALLOWLIST.get(_without_partition(pattern))
                allowed = {a.lower() for a in entry.actions} if entry else set()
                for action in actions:
                    if action.lower() not in allowed:
                        yield (
                            f"{where}: Resource {pattern!r} has a wildcard account: on "
                            f"{action!r} it reaches that resource in every account; name the "
                            f"account, or {allowlist}"
                        )
                continue
            named = "Resource '*'" if pattern == "*" else f"Resource {pattern!r} (as good as '*')"
            for action in actions:
                if action.lower() in _STAR_ALLOWED:
                    continue
                infos, error = resolve_action(action)
                if error is not None:
                    yield (
                        f"{where}: {named} on {error}: whether it takes a resource ARN "
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
                        f"{where}: {named} on {action!r}{matching}, which takes resource "
                        f"ARNs: scope it to them, or {allowlist}"
                    )


RULES = (
    ResourceRule(
        name="iam-no-wildcard-actions",
        description=(
            "An identity policy never allows a pattern matching every action of a service "
            "(`*`, `<service>:*`, `iam:?*`), a wildcard service prefix, or a wildcard in an action "
            "name's first three characters (`iam:*e`), nor uses NotAction in an Allow."
        ),
        types=IDENTITY_POLICY_TYPES,
        check=_check_wildcard_actions,
    ),
    ResourceRule(
        name="iam-star-resource-scoped",
        description=(
            'An identity policy allows `Resource: "*"` (or a pattern as good as it, `arn:*`) '
            "only for actions that take no resource ARN (IAM database) or that "
            "policy/iam_allowlist.py lists with a reason; so too a wildcard account."
        ),
        types=IDENTITY_POLICY_TYPES,
        check=_check_star_resource,
    ),
)
