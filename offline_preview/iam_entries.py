"""A JSON plan's IAM as entries, what `diff` compares: the view of the one reading of a plan's IAM
(`offline_preview.iam_plan`) for a `--format json` plan.

`read_plan_iam`, `load_plan_iam`: every principal, resource policy, cluster's
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

from offline_preview.iam_plan import POLICY_ARN, Plan, State, as_list, known
from offline_preview.iam_rules import PolicyError, Statement, parse_document
from offline_preview.iam_types import (
    ACCESS_ENTRY,
    ACCESS_POLICY,
    BUCKET_POLICY,
    BUCKETS,
    KEY_POLICY,
    KEYS,
    POLICY,
    REPOSITORY,
    REPOSITORY_POLICY,
    Unmodelled,
    unmodelled,
)

_KEY_ARN = re.compile(r"arn:[\w-]+:kms:[^:]*:[^:]*:key/(.+)")

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
    """Every policy of the plan's statements, by identity (`State.identity`): what an
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


def _json_states(plan: Any, origin: str) -> list[State]:
    steps = plan.get("steps") if isinstance(plan, Mapping) else None
    if not isinstance(steps, list):
        raise PlanError(f"{origin}: not a plan (`--format json`): no list of steps")
    states = []
    for step in steps:
        state = step.get("newState") if isinstance(step, Mapping) else None
        if isinstance(state, Mapping) and isinstance(state.get("inputs"), Mapping):
            depends = state.get("propertyDependencies")
            states.append(
                State(
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

    def __init__(self, plan: Plan, origin: str) -> None:
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
            match = POLICY_ARN.fullmatch(arn)
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
        match = POLICY_ARN.fullmatch(arn)
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

    def _owner(self, state: State, key: str, owner_types: Iterable[str]) -> State | None:
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
    return _Statements(Plan(_json_states(plan, origin)), origin).read()


def load_plan_iam(path: Path) -> PlanIam:
    """The IAM entries of a plan file."""
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PlanError(f"{path}: cannot read: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise PlanError(f"{path}: not JSON ({error})") from None
    return read_plan_iam(plan, str(path))
