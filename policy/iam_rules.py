"""IAM: what identity policies grant, whom IRSA roles trust, and IAM's size quotas.

Identity policies are the documents that say what a principal may do: customer-managed policies,
inline role (user, group) policies and a role's `inlinePolicies`. Resource policies (a key's
policy, a bucket's) are not judged by the grant rules: the default key policy's `kms:*` for the
account root delegates the key to IAM, and the bucket policy is a Deny (`storage_rules.py`).
AWS-managed policies attached by ARN are AWS's documents and are not in the plan: which may be
attached, and to which role, is an allowlist (`iam_allowlist.py`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from policy.iam_actions import glob_regex, has_wildcard, resolve_action
from policy.iam_allowlist import (
    ANY_ACCOUNT_ALLOWLIST,
    AWS_MANAGED_POLICIES,
    FOREIGN_PRINCIPALS,
    STAR_ALLOWLIST,
)
from policy.iam_limits import (
    MANAGED_POLICY_MAX,
    ROLE_INLINE_POLICIES_MAX,
    ROLE_MANAGED_POLICIES_MAX,
    TRUST_POLICY_MAX,
    iam_size,
)
from policy.model import (
    NotKnownError,
    Opaque,
    Resource,
    ResourceRule,
    Stack,
    StackRule,
    reading,
)

ROLE = "aws:iam/role:Role"
MANAGED_POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ROLE_POLICY_ATTACHMENTS_EXCLUSIVE = (
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
)
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
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
# A `:sub` pattern that names its namespace: a wildcard only in the service account's name
# (neither a namespace nor a name holds a colon).
_PINNED_SUBJECT = re.compile(r"system:serviceaccount:[^:*?]+:[^:]+")
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
    StackRule(
        name="iam-aws-managed-policies",
        description=(
            "An AWS-managed policy is attached only if policy/iam_allowlist.py lists it, and "
            "only to a role whose trust admits no one but the principals its entry names."
        ),
        types=MANAGED_POLICY_HOLDERS,
        check=_check_aws_managed_policies,
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
