"""The IAM of a plan, read in one place: its roles (and users and groups), the policies each
holds, the resource policies of its keys, buckets and repositories, and its EKS access.

A plan comes in two forms: the recording of the program run in this process, and a
`python -m offline_preview --format json` plan (perhaps of another checkout). Both are read as
the same states (type, URN, inputs; a recording's also carry the mocks' outputs), and one reading
(`Plan`) decides which principal holds what:

A role (`aws:iam/role:Role`, by its `name`) gathers its trust policy, its inline policies
(`aws:iam/rolePolicy:RolePolicy` and the role's `inlinePolicies`), the policies attached to it
(`aws:iam/rolePolicyAttachment:RolePolicyAttachment`, `aws:iam/policyAttachment:PolicyAttachment`
and the role's `managedPolicyArns`) and its permissions boundary; a user and a group alike
(`aws:iam/user:User` and its `permissionsBoundary`, `aws:iam/userPolicy:UserPolicy`,
`aws:iam/userPolicyAttachment:UserPolicyAttachment`, the groups' three, and the `users` and
`groups` of a policy attachment). A reference to a principal is read by name, by URN or by ARN,
and one the plan does not create is an entry all the same (an existing role outside the plan).
An attached ARN that names a policy of the plan (`aws:iam/policy:Policy`, in the plan's partition
and account, by path and name, else by its `namePrefix`, else by Pulumi's auto-name of its
logical name) is that policy; one of another account or partition is unreadable; any other ARN
(an AWS-managed policy, or a policy the plan does not create) is opaque: only its ARN is known.
The plan's partition and account are those of the ARNs computed from its own policies and
principals (`propertyDependencies`, or a recording's `arn` outputs); a principal's ARN of another
is not the plan's principal. Two policies of one principal under one label (inline policies of
one name) are both read, and unreadable.

Two views of that reading: `offline_preview.planned_roles` (a recording: the roles as the text
plan, the review document and the key policy statements print them) and
`offline_preview.iam_entries` (a JSON plan: every principal, resource policy and grant as an
entry, what `diff` compares).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from offline_preview.engine import RecordedResource
from offline_preview.iam_types import (
    ATTACHMENT,
    GROUP,
    GROUP_ATTACHMENT,
    GROUP_POLICY,
    POLICY,
    POLICY_ATTACHMENT,
    ROLE,
    ROLE_POLICY,
    USER,
    USER_ATTACHMENT,
    USER_POLICY,
)

POLICY_ARN = re.compile(r"arn:[\w-]+:iam::([^:]*):policy(/(?:.*/)?)([^/]+)")
_PRINCIPAL_ARN = re.compile(r"arn:[\w-]+:iam::[^:]*:(role|user|group)/(?:.*/)?([^/]+)")
_OWN_IAM = frozenset({POLICY, ROLE, USER, GROUP})
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""The value `pulumi preview --json` prints for an input not known before the update."""


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def known(value: Any) -> str | None:
    """A reference as text (a resource by its URN); None when it cannot be read: not a
    non-empty string, or a value unknown before the update."""
    if not isinstance(value, str) or not value or value == UNKNOWN:
        return None
    return value.removeprefix("<resource ").removesuffix(">")


# -- the one reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    """A planned resource: a recorded one, or a JSON plan's `newState`."""

    type: str
    urn: str
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any] = field(default_factory=dict)
    """The mocks' outputs (a recording's); a JSON plan carries none."""
    resource: RecordedResource | None = None
    depends: Mapping[str, Any] = field(default_factory=dict)
    """The URNs each input was computed from (`propertyDependencies`)."""
    retained: bool = False
    """`retainOnDelete`: removing it from the plan leaves it in AWS."""

    @property
    def logical_name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    @property
    def name(self) -> str:
        """The physical name: the mocks' (a recording's), else the `name` input, else logical."""
        return str(self.outputs.get("name") or self.inputs.get("name") or self.logical_name)

    @property
    def given_name(self) -> str | None:
        """The name the mocks gave it (a recording's), else its `name` input."""
        given = self.outputs.get("name") or self.inputs.get("name")
        return str(given) if given else None

    def may_be_named(self, name: str) -> bool:
        """Whether AWS may know this resource as `name`: its given name, else a name its
        `namePrefix` begins, or Pulumi's auto-name (logical name, `-`, seven hex digits)."""
        if self.given_name is not None:
            return name == self.given_name
        prefix = self.inputs.get("namePrefix")
        if isinstance(prefix, str) and prefix and name.startswith(prefix):
            return True
        return re.fullmatch(re.escape(self.logical_name) + r"-[0-9a-f]{7}", name) is not None

    @property
    def identity(self) -> str:
        """How the plan names it before AWS does: its name, `<namePrefix>*`, or logical name."""
        prefix = self.inputs.get("namePrefix")
        if self.given_name is not None:
            return self.given_name
        return f"{prefix}*" if isinstance(prefix, str) and prefix else self.logical_name

    def depends_on(self, key: str) -> list[str]:
        urns = self.depends.get(key)
        return [str(u) for u in urns] if isinstance(urns, list) else []


@dataclass(frozen=True)
class _Inline:
    name: str
    document: Any
    where: str
    """The URN it is read from, for messages."""


@dataclass
class _Holdings:
    """What one principal (a role, a user or a group) holds, in reading order."""

    name: str
    kind: str = "role"
    state: State | None = None
    """The principal's own resource; None for one the plan attaches to but does not create."""
    inline: list[_Inline] = field(default_factory=list)
    attached: list[str] = field(default_factory=list)
    """Policy ARNs: the role's `managedPolicyArns`, then its attachments."""
    boundary: str | None = None
    unreadable: list[str] = field(default_factory=list)
    """What is granted to it the reading cannot resolve, worded."""


@dataclass(frozen=True)
class _PrincipalTypes:
    """The types that create one kind of principal and grant it policies."""

    kind: str
    resource: str
    inline: str
    attachment: str
    owner: str
    """The input of `inline` and `attachment` that names the principal."""
    listed: str
    """The input of a policy attachment that lists principals of this kind."""


PRINCIPAL_TYPES = (
    _PrincipalTypes("role", ROLE, ROLE_POLICY, ATTACHMENT, "role", "roles"),
    _PrincipalTypes("user", USER, USER_POLICY, USER_ATTACHMENT, "user", "users"),
    _PrincipalTypes("group", GROUP, GROUP_POLICY, GROUP_ATTACHMENT, "group", "groups"),
)


@dataclass(frozen=True)
class _Found:
    """The plan's policy an attached ARN names (`state`), or why none: `not_policy` (not an ARN
    of a customer-managed policy, nor a reference to one of the plan), `ambiguous` (several of
    the plan's policies may have it)."""

    state: State | None = None
    not_policy: bool = False
    ambiguous: bool = False
    elsewhere: State | None = None
    """The plan's policy of that path and name, when the ARN is of another account or
    partition: not that policy."""


class Plan:
    """Which principal holds which policy: decided here only, for both forms of a plan."""

    def __init__(self, states: Iterable[State]) -> None:
        self.states = sorted(states, key=lambda s: s.urn)  # whatever order the steps came in
        self.accounts = self._accounts()
        self.principals: dict[tuple[str, str], _Holdings] = {}
        for types in PRINCIPAL_TYPES:
            for state in self.of(types.resource):
                holdings = self._principal(types, state.urn)
                if holdings.state is not None:
                    holdings.unreadable.append(
                        f"two {types.kind}s named `{holdings.name}`: {holdings.state.urn} and "
                        f"{state.urn}"
                    )
                    continue
                holdings.state = state
                for inline in state.inputs.get("inlinePolicies") or []:
                    if isinstance(inline, Mapping) and inline.get("policy"):
                        holdings.inline.append(
                            _Inline(str(inline.get("name")), inline["policy"], state.urn)
                        )
                holdings.attached += [str(a) for a in state.inputs.get("managedPolicyArns") or []]
                boundary = state.inputs.get("permissionsBoundary")
                holdings.boundary = str(boundary) if boundary else None
            for state in self.of(types.inline):
                name = str(state.inputs.get("name") or state.logical_name)
                inline = _Inline(name, state.inputs.get("policy"), state.urn)
                self._principal(types, state.inputs.get(types.owner), state).inline.append(inline)
            for state in self.of(types.attachment):
                holdings = self._principal(types, state.inputs.get(types.owner), state)
                holdings.attached.append(str(state.inputs.get("policyArn")))
            for state in self.of(POLICY_ATTACHMENT):
                for reference in as_list(state.inputs.get(types.listed) or []):
                    holdings = self._principal(types, reference, state)
                    holdings.attached.append(str(state.inputs.get("policyArn")))

    def _accounts(self) -> set[tuple[str, str]]:
        """The (partition, account) pairs of the plan's own IAM ARNs: its policies' `arn`
        outputs (a recording's), and each ARN an input holds that was computed from one of its
        policies or principals (`propertyDependencies`). Empty when the plan shows none."""
        own = {s.urn for s in self.states if s.type in _OWN_IAM}
        arns = [s.outputs.get("arn") for s in self.states if s.type in _OWN_IAM]
        for state in self.states:
            for key, value in state.inputs.items():
                if set(state.depends_on(key)) & own:
                    arns += as_list(value)
        found = set()
        for arn in arns:
            parts = arn.split(":") if isinstance(arn, str) else []
            if len(parts) > 5 and parts[0] == "arn" and parts[2] == "iam" and parts[4] != "aws":
                found.add((parts[1], parts[4]))
        return found

    def own_account(self, arn: str) -> bool:
        """Whether an IAM ARN is of the plan's partition and account (any, when unknown)."""
        parts = arn.split(":")
        return not self.accounts or (parts[1], parts[4]) in self.accounts

    @property
    def roles(self) -> dict[str, _Holdings]:
        return {name: h for (kind, name), h in self.principals.items() if kind == "role"}

    def of(self, type_: str) -> list[State]:
        return [s for s in self.states if s.type == type_]

    def _principal(
        self, types: _PrincipalTypes, reference: Any, state: State | None = None
    ) -> _Holdings:
        """The principal a reference names: a resource of the plan by URN, name or ARN (or a
        name its prefix or auto-name gives), else the name or ARN's name as written."""
        text = known(reference)
        if text is None:
            key = (types.kind, f"(unreadable `{types.owner}`)")
            holdings = self.principals.setdefault(key, _Holdings(key[1], types.kind))
            where = state.urn if state is not None else "?"
            holdings.unreadable.append(f"the `{types.owner}` of {where} cannot be read")
            return holdings
        created = self.of(types.resource)
        by_urn = [s for s in created if s.urn == text]
        arn = _PRINCIPAL_ARN.fullmatch(text)
        if arn is not None and arn.group(1) == types.kind:
            if not self.own_account(text):  # another account's: not the plan's, whatever name
                return self.principals.setdefault((types.kind, text), _Holdings(text, types.kind))
            text = arn.group(2)
        named = by_urn or _best([s for s in created if s.may_be_named(text)], text)
        name = named[0].name if len(named) == 1 else text
        return self.principals.setdefault((types.kind, name), _Holdings(name, types.kind))

    def find_policy(self, arn: str) -> _Found:
        """The plan's policy an attached ARN (or a reference to a policy) names."""
        text = known(arn)
        by_urn = [s for s in self.of(POLICY) if s.urn == text]
        if by_urn:
            return _Found(by_urn[0])
        match = POLICY_ARN.fullmatch(text or "")
        if match is None:
            return _Found(not_policy=True)
        if match.group(1) == "aws":
            return _Found()
        path, name = match.group(2), match.group(3)
        policies = [s for s in self.of(POLICY) if str(s.inputs.get("path") or "/") == path]
        named = _best([s for s in policies if s.may_be_named(name)], name)
        if len(named) > 1:
            return _Found(ambiguous=True)
        if named and not self.own_account(text or ""):
            return _Found(elsewhere=named[0])
        return _Found(named[0] if named else None)

    def policy(self, arn: str) -> State | None:
        """The plan's policy an ARN names; None for an AWS-managed, an unknown or an ambiguous
        one."""
        return self.find_policy(arn).state

    def attached_policies(self) -> set[str]:
        """The URNs of the plan's policies some principal holds."""
        return {
            state.urn
            for holdings in self.principals.values()
            for arn in holdings.attached
            if (state := self.policy(arn)) is not None
        }


def _best(candidates: list[State], name: str) -> list[State]:
    """Those of the candidates given `name` itself, when any is: AWS names are unique."""
    return [s for s in candidates if s.given_name == name] or candidates
