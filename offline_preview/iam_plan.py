"""The IAM of a plan, read in one place: its roles (and users and groups), the policies each
holds, the resource policies of its keys, buckets and repositories, and its EKS access.

A plan comes in two forms: the recording of the program run in this process, and a
`python -m offline_preview --format json` plan (perhaps of another checkout). Both are read as
the same states (type, URN, inputs; a recording's also carry the mocks' outputs), and one reading
(`_Plan`) decides which principal holds what:

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

Two views of that reading:

* `planned_roles`, `unattached_policies` (a recording): each role with its documents as the plan
  renders them, ARNs from the mocks, and its EKS access policies, in a fixed order, so that what
  the text plan, the review document and the key policy statements print from it is the same
  every run whatever order the SDK registered in;
* `read_plan_iam`, `load_plan_iam` (a JSON plan): every principal, resource policy, cluster's
  access and IAM-bearing resource as an `Entry`, what `diff` compares. A resource policy is an
  entry of its own: a KMS key's (the key's `policy`, or an `aws:kms/keyPolicy:KeyPolicy`), an S3
  bucket's (`aws:s3/bucketPolicy:BucketPolicy`, or the bucket's `policy`, by bucket name) and an
  ECR repository's (`aws:ecr/repositoryPolicy:RepositoryPolicy`, by repository name). A bucket
  or repository of the plan without a policy is an entry without statements, so that removing
  its policy (and with it a Deny) shows. An EKS cluster's entry holds its access entries and the
  access policies associated with them. A policy of the plan no principal is read to hold is an
  entry of its own (it may be attached where the plan cannot tell), and each instance of a type
  `offline_preview.iam_types.UNMODELLED` lists is one, by type and logical name, holding its
  IAM-bearing inputs as written. A reference the reading cannot resolve (not a string, an
  unknown value, an ARN several policies may have) is kept as `unreadable`: `diff` fails closed
  on it. Steps without a `newState` (what `pulumi preview --json` prints for a delete) are
  skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naming import Role, split_role_name
from offline_preview.engine import RecordedResource, Recording
from offline_preview.iam_rules import PolicyError, Statement, parse_document
from offline_preview.iam_types import (
    ACCESS_ENTRY,
    ACCESS_POLICY,
    ATTACHMENT,
    BUCKET_POLICY,
    BUCKETS,
    GROUP,
    GROUP_ATTACHMENT,
    GROUP_POLICY,
    KEY_POLICY,
    KEYS,
    POLICY,
    POLICY_ATTACHMENT,
    REPOSITORY,
    REPOSITORY_POLICY,
    ROLE,
    ROLE_POLICY,
    USER,
    USER_ATTACHMENT,
    USER_POLICY,
    Unmodelled,
    unmodelled,
)

_POLICY_ARN = re.compile(r"arn:[\w-]+:iam::([^:]*):policy(/(?:.*/)?)([^/]+)")
_PRINCIPAL_ARN = re.compile(r"arn:[\w-]+:iam::[^:]*:(role|user|group)/(?:.*/)?([^/]+)")
_OWN_IAM = frozenset({POLICY, ROLE, USER, GROUP})
_KEY_ARN = re.compile(r"arn:[\w-]+:kms:[^:]*:[^:]*:key/(.+)")
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
class _State:
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
    state: _State | None = None
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

    state: _State | None = None
    not_policy: bool = False
    ambiguous: bool = False
    elsewhere: _State | None = None
    """The plan's policy of that path and name, when the ARN is of another account or
    partition: not that policy."""


class _Plan:
    """Which principal holds which policy: decided here only, for both forms of a plan."""

    def __init__(self, states: Iterable[_State]) -> None:
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

    def of(self, type_: str) -> list[_State]:
        return [s for s in self.states if s.type == type_]

    def _principal(
        self, types: _PrincipalTypes, reference: Any, state: _State | None = None
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
        match = _POLICY_ARN.fullmatch(text or "")
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

    def policy(self, arn: str) -> _State | None:
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


def _best(candidates: list[_State], name: str) -> list[_State]:
    """Those of the candidates given `name` itself, when any is: AWS names are unique."""
    return [s for s in candidates if s.given_name == name] or candidates


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


# -- a recording: the roles as the preview prints them -------------------------------------------


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


def _recorded(recording: Recording) -> _Plan:
    return _Plan(_State(r.type, r.urn, r.inputs, r.outputs, r) for r in recording.resources)


def _planned_policy(state: _State) -> PlannedPolicy:
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


# -- a JSON plan: every principal, resource policy and grant as an entry, for `diff` -------------

TRUST = "trust policy"
DEFAULT_KEY_POLICY = "the default key policy (the account may use the key through IAM)"
KEY_POLICY_LABEL = "key policy"
KEY_POLICY_RESOURCE_LABEL = "key policy (`aws:kms/keyPolicy`)"
BUCKET_POLICY_LABEL = "bucket policy"
BUCKET_INLINE_LABEL = "bucket policy (the bucket's `policy`)"
REPOSITORY_POLICY_LABEL = "repository policy"
PRINCIPAL_KINDS = {"role": "role", "user": "IAM user", "group": "IAM group"}
"""Each principal kind's entry kind."""
UNATTACHED_POLICY = "unattached policy"
CLUSTER = "EKS cluster"


class PlanError(ValueError):
    """A file that is not a plan, or a plan whose IAM cannot be read; one line per problem."""


@dataclass(frozen=True, order=True)
class AccessEntryGrant:
    """An EKS access entry: the principal may authenticate, as `type`, with these groups."""

    principal: str
    type: str
    user_name: str
    groups: tuple[str, ...]


@dataclass(frozen=True, order=True)
class AccessPolicyGrant:
    """An EKS access policy associated with a principal, on the whole cluster (`namespaces`
    None) or on namespaces (EKS allows a trailing `*` in one)."""

    principal: str
    policy: str
    namespaces: tuple[str, ...] | None


@dataclass(frozen=True, order=True)
class Instance:
    """One instance of a type not modelled: its IAM-bearing inputs as canonical JSON."""

    inputs: str
    retained: bool = False


@dataclass
class Entry:
    """A principal, a resource policy, a cluster's access or a resource not modelled: what it
    allows and under which policies.

    `documents` maps each policy's label (`customer-managed <name>`, `inline <name>`,
    `trust policy`, `key policy`, ...) to its statements; `opaque` holds the labels of policies
    whose statements the plan does not carry (AWS-managed ARNs, the default key policy);
    `unreadable` what the reading could not resolve (each a widening in HEAD, whatever BASE had);
    `access_entries` and `access_policies` an EKS cluster's; `instances` a type's not modelled,
    `spec` how that type is read."""

    kind: str
    name: str
    created: bool = False
    documents: dict[str, tuple[Statement, ...]] = field(default_factory=dict)
    opaque: set[str] = field(default_factory=set)
    boundary: str | None = None
    boundary_statements: tuple[Statement, ...] | None = None
    unreadable: set[str] = field(default_factory=set)
    access_entries: set[AccessEntryGrant] = field(default_factory=set)
    access_policies: set[AccessPolicyGrant] = field(default_factory=set)
    instances: list[Instance] = field(default_factory=list)
    spec: Unmodelled | None = None

    @property
    def title(self) -> str:
        return f"{self.kind} `{self.name}`"

    @property
    def principal(self) -> bool:
        """A role, user or group: its own creation grants (a new role may be assumed)."""
        return self.kind in PRINCIPAL_KINDS.values()

    @property
    def holds(self) -> bool:
        """Whether it grants or guards anything."""
        return bool(
            self.documents
            or self.opaque
            or self.boundary
            or self.unreadable
            or self.access_entries
            or self.access_policies
            or self.instances
        )

    def statements(self, *, trust: bool) -> list[Statement]:
        """The trust statements, or every other statement (identity or resource policy)."""
        return [
            s
            for label, statements in sorted(self.documents.items())
            if (label == TRUST) == trust
            for s in statements
        ]


@dataclass
class PlanIam:
    """Every entry of a plan, by (kind, name)."""

    entries: dict[tuple[str, str], Entry] = field(default_factory=dict)
    policies: dict[str, tuple[Statement, ...]] = field(default_factory=dict)
    """Every policy of the plan's statements, by identity (`_State.identity`): what an
    unattached policy is compared with when the other plan attaches it."""

    def unattached(self, name: str) -> Entry | None:
        """The unattached policy `name`, or (attached in this plan) its statements as one."""
        entry = self.entries.get((UNATTACHED_POLICY, name))
        if entry is None and name in self.policies:
            entry = Entry(UNATTACHED_POLICY, name, created=True)
            entry.documents[f"customer-managed `{name}`"] = self.policies[name]
        return entry

    def entry(self, kind: str, name: str) -> Entry:
        return self.entries.setdefault((kind, name), Entry(kind, name))


def _json_states(plan: Any, origin: str) -> list[_State]:
    steps = plan.get("steps") if isinstance(plan, Mapping) else None
    if not isinstance(steps, list):
        raise PlanError(f"{origin}: not a plan (`--format json`): no list of steps")
    states = []
    for step in steps:
        state = step.get("newState") if isinstance(step, Mapping) else None
        if isinstance(state, Mapping) and isinstance(state.get("inputs"), Mapping):
            depends = state.get("propertyDependencies")
            states.append(
                _State(
                    str(state.get("type")),
                    str(state.get("urn")),
                    state["inputs"],
                    depends=depends if isinstance(depends, Mapping) else {},
                    retained=state.get("retainOnDelete") is True,
                )
            )
    return states


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class _Statements:
    """A JSON plan's reading, parsed into statements."""

    def __init__(self, plan: _Plan, origin: str) -> None:
        self.plan = plan
        self.origin = origin
        self.held: set[str] = set()
        """The URNs of the plan's policies some principal holds (or is bounded by)."""

    def parse(self, document: Any, label: str, owner: str, *, principals: bool) -> Any:
        try:
            return parse_document(document, label, principals=principals)
        except PolicyError as error:
            raise PlanError(f"{self.origin}: {owner}: {error}") from None

    def policy(self, arn: str, entry: Entry) -> tuple[str, tuple[Statement, ...] | None]:
        """An attached policy's label, and its statements when the plan creates it; one the
        reading cannot resolve is also `unreadable` on the entry."""
        found = self.plan.find_policy(arn)
        if found.state is not None:
            self.held.add(found.state.urn)
            match = _POLICY_ARN.fullmatch(arn)
            label = f"customer-managed `{match.group(3) if match else found.state.identity}`"
            statements = self.parse(
                found.state.inputs.get("policy"), label, found.state.urn, principals=False
            )
            return label, statements
        if found.not_policy:
            label = f"policy `{arn}`"
            entry.unreadable.add(f"{label}: not a policy ARN the plan can resolve")
            return label, None
        if found.ambiguous:
            label = f"customer-managed `{arn}`"
            entry.unreadable.add(f"{label}: several policies of the plan may be it")
            return label, None
        if found.elsewhere is not None:
            label = f"customer-managed `{arn}`"
            entry.unreadable.add(
                f"{label}: named as the plan's {found.elsewhere.urn}, in another account or "
                "partition than the plan's"
            )
            return label, None
        match = _POLICY_ARN.fullmatch(arn)
        if match is not None and match.group(1) == "aws":
            return f"AWS-managed `{arn}`", None
        return f"customer-managed `{arn}` (not in the plan)", None

    def read(self) -> PlanIam:
        iam = PlanIam()
        for (kind, name), holdings in self.plan.principals.items():
            entry = iam.entry(PRINCIPAL_KINDS[kind], name)
            entry.unreadable.update(holdings.unreadable)
            if holdings.state is not None:
                entry.created = True
                if kind == "role":
                    entry.documents[TRUST] = self.parse(
                        holdings.state.inputs.get("assumeRolePolicy"),
                        TRUST,
                        holdings.state.urn,
                        principals=True,
                    )
            sources: dict[str, str] = {}
            for inline in holdings.inline:
                label = f"inline `{inline.name}`"
                statements = self.parse(inline.document, label, inline.where, principals=False)
                self._hold(entry, label, statements, inline.where, sources, always=True)
            for arn in holdings.attached:
                label, attached = self.policy(arn, entry)
                if attached is None:
                    entry.opaque.add(label)
                else:
                    self._hold(entry, label, attached, arn, sources)
            if holdings.boundary is not None:
                entry.boundary, entry.boundary_statements = self.policy(holdings.boundary, entry)
        self._unattached_policies(iam)
        self._key_policies(iam)
        self._resource_policies(iam)
        self._cluster_access(iam)
        self._unmodelled(iam)
        return iam

    @staticmethod
    def _hold(
        entry: Entry,
        label: str,
        statements: tuple[Statement, ...],
        source: str,
        sources: dict[str, str],
        *,
        always: bool = False,
    ) -> None:
        """One policy of a principal under its label. Two sources of one label (two inline
        policies of one name, or a name and another's logical name; two policies of one name
        and different paths) are both kept, and unreadable: AWS keeps one of them, or none.
        An inline policy is always another source (`always`: two in one role's
        `inlinePolicies` name one URN); an attached ARN is the same policy attached twice."""
        if label in entry.documents and (always or sources.get(label) != source):
            entry.unreadable.add(
                f"two policies labelled {label}: {sources.get(label, '?')} and {source}"
            )
            statements = entry.documents[label] + statements
        entry.documents[label] = statements
        sources[label] = source

    def _unattached_policies(self, iam: PlanIam) -> None:
        """A policy no principal is read to hold may be attached where the plan cannot tell
        (a name the reading cannot match, or outside the plan): its statements are an entry of
        their own, compared with the other plan's same policy, held or not."""
        for state in self.plan.of(POLICY):
            label = f"customer-managed `{state.identity}`"
            statements = self.parse(state.inputs.get("policy"), label, state.urn, principals=False)
            shared = state.identity in iam.policies
            iam.policies[state.identity] = iam.policies.get(state.identity, ()) + statements
            if state.urn not in self.held or shared:
                entry = iam.entry(UNATTACHED_POLICY, state.identity)
                entry.created = True
                entry.documents[label] = iam.policies[state.identity]
                if shared:
                    entry.unreadable.add(f"several policies of the plan are named {label}")

    def _owner(self, state: _State, key: str, owner_types: Iterable[str]) -> _State | None:
        """The one resource of `owner_types` the input `key` was computed from, if any."""
        urns = set(state.depends_on(key))
        owners = [s for t in owner_types for s in self.plan.of(t) if s.urn in urns]
        return owners[0] if len(owners) == 1 else None

    def _key_policies(self, iam: PlanIam) -> None:
        for type_ in KEYS:
            for state in self.plan.of(type_):
                entry = iam.entry("KMS key", state.logical_name)
                entry.created = True
                policy = state.inputs.get("policy")
                if policy:
                    entry.documents[KEY_POLICY_LABEL] = self.parse(
                        policy, KEY_POLICY_LABEL, state.urn, principals=True
                    )
        for state in self.plan.of(KEY_POLICY):
            key = self._owner(state, "keyId", KEYS)
            key_id = known(state.inputs.get("keyId"))
            if key is not None:
                name = key.logical_name
            elif key_id is not None:
                match = _KEY_ARN.fullmatch(key_id)
                name = match.group(1) if match else key_id
            else:
                name = f"(unreadable `keyId` of {state.logical_name})"
                iam.entry("KMS key", name).unreadable.add(f"the `keyId` of {state.urn}")
            entry = iam.entry("KMS key", name)
            if KEY_POLICY_LABEL in entry.documents or KEY_POLICY_RESOURCE_LABEL in entry.documents:
                entry.unreadable.add(
                    "two key policies for one key: whichever is applied last is the key's"
                )
            entry.documents[KEY_POLICY_RESOURCE_LABEL] = self.parse(
                state.inputs.get("policy"), KEY_POLICY_RESOURCE_LABEL, state.urn, principals=True
            )
        for type_ in KEYS:
            for state in self.plan.of(type_):
                entry = iam.entry("KMS key", state.logical_name)
                if not entry.documents:
                    entry.opaque.add(DEFAULT_KEY_POLICY)

    def _resource_policies(self, iam: PlanIam) -> None:
        owners = (
            ("S3 bucket", BUCKETS, "bucket", BUCKET_POLICY, "bucket", BUCKET_POLICY_LABEL),
            (
                "ECR repository",
                (REPOSITORY,),
                "name",
                REPOSITORY_POLICY,
                "repository",
                REPOSITORY_POLICY_LABEL,
            ),
        )
        for kind, owner_types, owner_key, policy_type, policy_key, label in owners:
            names: dict[str, str] = {}
            for owner_type in owner_types:
                for state in self.plan.of(owner_type):
                    name = known(state.inputs.get(owner_key)) or state.logical_name
                    names[state.urn] = name
                    entry = iam.entry(kind, name)
                    entry.created = True
                    inline = state.inputs.get("policy")
                    if inline and kind == "S3 bucket":
                        entry.documents[BUCKET_INLINE_LABEL] = self.parse(
                            inline, BUCKET_INLINE_LABEL, state.urn, principals=True
                        )
            for state in self.plan.of(policy_type):
                owner_state = self._owner(state, policy_key, owner_types)
                owner = known(state.inputs.get(policy_key))
                if owner_state is not None:
                    owner = names[owner_state.urn]
                if owner is None:
                    raise PlanError(
                        f"{self.origin}: {state.urn}: `{policy_key}` is not a known string"
                    )
                entry = iam.entry(kind, owner)
                if label in entry.documents or BUCKET_INLINE_LABEL in entry.documents:
                    entry.unreadable.add(
                        f"two {label} documents for one {kind}: whichever is applied last holds"
                    )
                entry.documents[label] = self.parse(
                    state.inputs.get("policy"), label, state.urn, principals=True
                )

    def _cluster_access(self, iam: PlanIam) -> None:
        for type_ in (ACCESS_ENTRY, ACCESS_POLICY):
            for state in self.plan.of(type_):
                cluster = known(state.inputs.get("clusterName"))
                principal = known(state.inputs.get("principalArn"))
                entry = iam.entry(CLUSTER, cluster or "(unreadable `clusterName`)")
                if cluster is None or principal is None:
                    entry.unreadable.add(f"the cluster or principal of {state.urn}")
                principal = principal or "(unreadable)"
                if type_ == ACCESS_ENTRY:
                    groups = state.inputs.get("kubernetesGroups") or []
                    entry.access_entries.add(
                        AccessEntryGrant(
                            principal,
                            str(state.inputs.get("type") or "STANDARD"),
                            str(state.inputs.get("userName") or ""),
                            tuple(sorted({str(g) for g in as_list(groups)})),
                        )
                    )
                    continue
                scope = state.inputs.get("accessScope") or {}
                scope = scope if isinstance(scope, Mapping) else {}
                namespaces = scope.get("namespaces") or []
                if scope.get("type") == "cluster":
                    chosen: tuple[str, ...] | None = None
                elif scope.get("type") == "namespace" and namespaces:
                    chosen = tuple(sorted({str(n) for n in as_list(namespaces)}))
                else:
                    chosen = None  # read as the widest, and said so
                    entry.unreadable.add(f"the `accessScope` of {state.urn}")
                policy = known(state.inputs.get("policyArn"))
                if policy is None:
                    entry.unreadable.add(f"the `policyArn` of {state.urn}")
                entry.access_policies.add(
                    AccessPolicyGrant(principal, policy or "(unreadable)", chosen)
                )

    def _unmodelled(self, iam: PlanIam) -> None:
        for state in self.plan.states:
            spec = unmodelled(state.type)
            if spec is None:
                continue
            if spec.inputs is None:
                inputs = dict(state.inputs)
            else:
                inputs = {
                    key: state.inputs[key]
                    for key in spec.inputs
                    if state.inputs.get(key) not in (None, "", [], {})
                }
                if not inputs:
                    continue
            entry = iam.entry(f"resource `{state.type}`", state.logical_name)
            entry.created = True
            entry.spec = spec
            entry.instances.append(Instance(_canonical(inputs), state.retained))
            entry.instances.sort()


def read_plan_iam(plan: Any, origin: str) -> PlanIam:
    """The IAM entries of a parsed plan; `origin` names it in error messages."""
    return _Statements(_Plan(_json_states(plan, origin)), origin).read()


def load_plan_iam(path: Path) -> PlanIam:
    """The IAM entries of a plan file."""
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PlanError(f"{path}: cannot read: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise PlanError(f"{path}: not JSON ({error})") from None
    return read_plan_iam(plan, str(path))
