"""The IAM of a plan, read in one place: its roles, the policies each holds, and the resource
policies of its keys, buckets and repositories.

A plan comes in two forms: the recording of the program run in this process, and a
`python -m offline_preview --format json` plan (perhaps of another checkout). Both are read as
the same states (type, URN, inputs; a recording's also carry the mocks' outputs), and one reading
(`_Plan`) decides which role holds what:

A role (`aws:iam/role:Role`, by its `name`) gathers its trust policy, its inline policies
(`aws:iam/rolePolicy:RolePolicy` and the role's `inlinePolicies`), the policies attached to it
(`aws:iam/rolePolicyAttachment:RolePolicyAttachment`, `aws:iam/policyAttachment:PolicyAttachment`
and the role's `managedPolicyArns`) and its permissions boundary. An attached ARN that names a
policy of the plan (`aws:iam/policy:Policy`, by path and name) is that policy; any other ARN (an
AWS-managed policy, or a policy the plan does not create) is opaque: only its ARN is known. A role
attached to but not created by the plan is an entry all the same.

Two views of that reading:

* `planned_roles`, `unattached_policies` (a recording): each role with its documents as the plan
  renders them, ARNs from the mocks, and its EKS access policies, in a fixed order, so that what
  the text plan, the review document and the key policy statements print from it is the same
  every run whatever order the SDK registered in;
* `read_plan_iam`, `load_plan_iam` (a JSON plan): every role and resource policy as parsed
  statements (`iam_rules.parse_document`), what `diff` compares. A resource policy is an entry of
  its own: a KMS key's (the key's `policy`, by the key's name in the plan), an S3 bucket's
  (`aws:s3/bucketPolicy:BucketPolicy`, by bucket name) and an ECR repository's
  (`aws:ecr/repositoryPolicy:RepositoryPolicy`, by repository name). A bucket or repository of
  the plan without a policy is an entry without statements, so that removing its policy (and
  with it a Deny) shows. Steps without a `newState` (what `pulumi preview --json` prints for a
  delete) are skipped.
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

ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
ACCESS_POLICY = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
KEY = "aws:kms/key:Key"
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
REPOSITORY = "aws:ecr/repository:Repository"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"

_POLICY_ARN = re.compile(r"arn:[\w-]+:iam::([^:]*):policy(/(?:.*/)?)([^/]+)")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


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

    @property
    def logical_name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    @property
    def name(self) -> str:
        """The physical name: the mocks' (a recording's), else the `name` input, else logical."""
        return str(self.outputs.get("name") or self.inputs.get("name") or self.logical_name)


@dataclass(frozen=True)
class _Inline:
    name: str
    document: Any
    where: str
    """The URN it is read from, for messages."""


@dataclass
class _Holdings:
    """What one role holds, in reading order."""

    name: str
    state: _State | None = None
    """The role's own resource; None for a role the plan attaches to but does not create."""
    inline: list[_Inline] = field(default_factory=list)
    attached: list[str] = field(default_factory=list)
    """Policy ARNs: the role's `managedPolicyArns`, then its attachments."""
    boundary: str | None = None


class _Plan:
    """Which role holds which policy: decided here only, for both forms of a plan."""

    def __init__(self, states: Iterable[_State]) -> None:
        self.states = list(states)
        self.roles: dict[str, _Holdings] = {}
        self._role_names = {s.urn: s.name for s in self.of(ROLE)}  # a reference by URN
        self._policies = {(str(s.inputs.get("path") or "/"), s.name): s for s in self.of(POLICY)}
        for state in self.of(ROLE):
            holdings = self._role(state.urn)
            holdings.state = state
            for inline in state.inputs.get("inlinePolicies") or []:
                if isinstance(inline, Mapping) and inline.get("policy"):
                    holdings.inline.append(
                        _Inline(str(inline.get("name")), inline["policy"], state.urn)
                    )
            holdings.attached += [str(arn) for arn in state.inputs.get("managedPolicyArns") or []]
            boundary = state.inputs.get("permissionsBoundary")
            holdings.boundary = str(boundary) if boundary else None
        for state in self.of(ROLE_POLICY):
            name = str(state.inputs.get("name") or state.logical_name)
            inline = _Inline(name, state.inputs.get("policy"), state.urn)
            self._role(state.inputs.get("role")).inline.append(inline)
        for state in self.of(ATTACHMENT):
            self._role(state.inputs.get("role")).attached.append(str(state.inputs.get("policyArn")))
        for state in self.of(POLICY_ATTACHMENT):
            for role in state.inputs.get("roles") or []:
                self._role(role).attached.append(str(state.inputs.get("policyArn")))

    def of(self, type_: str) -> list[_State]:
        return [s for s in self.states if s.type == type_]

    def _role(self, reference: Any) -> _Holdings:
        name = str(reference).removeprefix("<resource ").removesuffix(">")
        name = self._role_names.get(name, name)
        return self.roles.setdefault(name, _Holdings(name))

    def policy(self, arn: str) -> _State | None:
        """The plan's policy an ARN names; None for an AWS-managed or an unknown one."""
        match = _POLICY_ARN.fullmatch(arn)
        if match is None or match.group(1) == "aws":
            return None
        return self._policies.get((match.group(2), match.group(3)))

    def attached_policies(self) -> set[str]:
        """The URNs of the plan's policies some role holds."""
        return {
            state.urn
            for holdings in self.roles.values()
            for arn in holdings.attached
            if (state := self.policy(arn)) is not None
        }


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


# -- a JSON plan: every role and resource policy as statements, for `diff` -----------------------

TRUST = "trust policy"
DEFAULT_KEY_POLICY = "the default key policy (the account may use the key through IAM)"
# (entry kind, owner types, owner's name input, policy type, policy's owner input, label)
_RESOURCE_POLICIES = (
    ("S3 bucket", BUCKETS, "bucket", BUCKET_POLICY, "bucket", "bucket policy"),
    ("ECR repository", (REPOSITORY,), "name", REPOSITORY_POLICY, "repository", "repository policy"),
)


class PlanError(ValueError):
    """A file that is not a plan, or a plan whose IAM cannot be read; one line per problem."""


@dataclass
class Entry:
    """A role or a resource policy: what it allows and under which policies.

    `documents` maps each policy's label (`customer-managed <name>`, `inline <name>`,
    `trust policy`, `key policy`, ...) to its statements; `opaque` holds the labels of policies
    whose statements the plan does not carry (AWS-managed ARNs, the default key policy)."""

    kind: str
    name: str
    created: bool = False
    documents: dict[str, tuple[Statement, ...]] = field(default_factory=dict)
    opaque: set[str] = field(default_factory=set)
    boundary: str | None = None
    boundary_statements: tuple[Statement, ...] | None = None

    @property
    def title(self) -> str:
        return f"{self.kind} `{self.name}`"

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
            states.append(_State(str(state.get("type")), str(state.get("urn")), state["inputs"]))
    return states


class _Statements:
    """A JSON plan's reading, parsed into statements."""

    def __init__(self, plan: _Plan, origin: str) -> None:
        self.plan = plan
        self.origin = origin

    def parse(self, document: Any, label: str, owner: str, *, principals: bool) -> Any:
        try:
            return parse_document(document, label, principals=principals)
        except PolicyError as error:
            raise PlanError(f"{self.origin}: {owner}: {error}") from None

    def policy(self, arn: str) -> tuple[str, tuple[Statement, ...] | None]:
        """An attached policy's label, and its statements when the plan creates it."""
        match = _POLICY_ARN.fullmatch(arn)
        if match is None or match.group(1) == "aws":
            return f"AWS-managed `{arn}`", None
        state = self.plan.policy(arn)
        if state is None:
            return f"customer-managed `{arn}` (not in the plan)", None
        label = f"customer-managed `{match.group(3)}`"
        return label, self.parse(state.inputs.get("policy"), label, state.urn, principals=False)

    def read(self) -> PlanIam:
        iam = PlanIam()
        for holdings in self.plan.roles.values():
            entry = iam.entry("role", holdings.name)
            if holdings.state is not None:
                entry.created = True
                entry.documents[TRUST] = self.parse(
                    holdings.state.inputs.get("assumeRolePolicy"),
                    TRUST,
                    holdings.state.urn,
                    principals=True,
                )
            for inline in holdings.inline:
                label = f"inline `{inline.name}`"
                entry.documents[label] = self.parse(
                    inline.document, label, inline.where, principals=False
                )
            for arn in holdings.attached:
                label, statements = self.policy(arn)
                if statements is None:
                    entry.opaque.add(label)
                else:
                    entry.documents[label] = statements
            if holdings.boundary is not None:
                entry.boundary, entry.boundary_statements = self.policy(holdings.boundary)
        self._resource_policies(iam)
        return iam

    def _resource_policies(self, iam: PlanIam) -> None:
        for state in self.plan.of(KEY):
            entry = iam.entry("KMS key", state.logical_name)
            entry.created = True
            policy = state.inputs.get("policy")
            if policy:
                entry.documents["key policy"] = self.parse(
                    policy, "key policy", state.urn, principals=True
                )
            else:
                entry.opaque.add(DEFAULT_KEY_POLICY)
        for kind, owner_types, owner_key, policy_type, policy_key, label in _RESOURCE_POLICIES:
            for owner_type in owner_types:
                for state in self.plan.of(owner_type):
                    name = state.inputs.get(owner_key)
                    if isinstance(name, str) and name:
                        iam.entry(kind, name).created = True
            for state in self.plan.of(policy_type):
                owner = state.inputs.get(policy_key)
                if not isinstance(owner, str) or not owner:
                    raise PlanError(
                        f"{self.origin}: {state.urn}: `{policy_key}` is not a known string"
                    )
                iam.entry(kind, owner).documents[label] = self.parse(
                    state.inputs.get("policy"), label, state.urn, principals=True
                )


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
