"""The IAM of a plan (`python -m offline_preview --format json`): its roles and resource policies.

A role (`aws:iam/role:Role`, by its `name`) gathers its trust policy, its inline policies
(`aws:iam/rolePolicy:RolePolicy` and the role's `inlinePolicies`), the policies attached to it
(`aws:iam/rolePolicyAttachment:RolePolicyAttachment`, `aws:iam/policyAttachment:PolicyAttachment`
and the role's `managedPolicyArns`) and its permissions boundary. An attached ARN that names a
policy of the plan (`aws:iam/policy:Policy`, by path and name) is read as its statements; any
other ARN (an AWS-managed policy, or a policy the plan does not create) is opaque: only its ARN is
known. A role attached to but not created by the plan is an entry all the same.

A resource policy is an entry of its own: a KMS key's (the key's `policy`, by the key's name in
the plan), an S3 bucket's (`aws:s3/bucketPolicy:BucketPolicy`, by bucket name) and an ECR
repository's (`aws:ecr/repositoryPolicy:RepositoryPolicy`, by repository name). A bucket or
repository of the plan without a policy is an entry without statements, so that removing its
policy (and with it a Deny) shows.

Steps without a `newState` (what `pulumi preview --json` prints for a delete) are skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offline_preview.iam_rules import PolicyError, Statement, parse_document

ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
KEY = "aws:kms/key:Key"
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
REPOSITORY = "aws:ecr/repository:Repository"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"

TRUST = "trust policy"
DEFAULT_KEY_POLICY = "the default key policy (the account may use the key through IAM)"
# (entry kind, owner types, owner's name input, policy type, policy's owner input, label)
_RESOURCE_POLICIES = (
    ("S3 bucket", BUCKETS, "bucket", BUCKET_POLICY, "bucket", "bucket policy"),
    ("ECR repository", (REPOSITORY,), "name", REPOSITORY_POLICY, "repository", "repository policy"),
)
_POLICY_ARN = re.compile(r"arn:[\w-]+:iam::([^:]*):policy(/(?:.*/)?)([^/]+)")


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


def _states(plan: Any, origin: str) -> list[Mapping[str, Any]]:
    steps = plan.get("steps") if isinstance(plan, Mapping) else None
    if not isinstance(steps, list):
        raise PlanError(f"{origin}: not a plan (`--format json`): no list of steps")
    states = []
    for step in steps:
        state = step.get("newState") if isinstance(step, Mapping) else None
        if isinstance(state, Mapping) and isinstance(state.get("inputs"), Mapping):
            states.append(state)
    return states


def _logical_name(state: Mapping[str, Any]) -> str:
    return str(state.get("urn", "")).rsplit("::", 1)[-1]


def _text(inputs: Mapping[str, Any], key: str, state: Mapping[str, Any], origin: str) -> str:
    value = inputs.get(key)
    if not isinstance(value, str) or not value:
        raise PlanError(f"{origin}: {state.get('urn')}: `{key}` is not a known string")
    return value


class _Reader:
    def __init__(self, plan: Any, origin: str) -> None:
        self.origin = origin
        self.states = _states(plan, origin)
        self.iam = PlanIam()
        self.role_names = {  # a reference to a role by URN reads as the role's name
            str(s.get("urn")): str(s["inputs"].get("name") or _logical_name(s))
            for s in self._of(ROLE)
        }
        self.policies: dict[tuple[str, str], Mapping[str, Any]] = {
            (str(s["inputs"].get("path") or "/"), str(s["inputs"].get("name"))): s
            for s in self._of(POLICY)
        }

    def _of(self, type_: str) -> list[Mapping[str, Any]]:
        return [s for s in self.states if s.get("type") == type_]

    def _parse(self, document: Any, label: str, owner: str, *, principals: bool) -> Any:
        try:
            return parse_document(document, label, principals=principals)
        except PolicyError as error:
            raise PlanError(f"{self.origin}: {owner}: {error}") from None

    def _role(self, reference: Any) -> Entry:
        name = str(reference).removeprefix("<resource ").removesuffix(">")
        return self.iam.entry("role", self.role_names.get(name, name))

    def _attach(self, entry: Entry, arn: Any) -> None:
        """An attached policy: its statements when the plan creates it, else its ARN."""
        label, statements = self._policy(arn)
        if statements is None:
            entry.opaque.add(label)
        else:
            entry.documents[label] = statements

    def _policy(self, arn: Any) -> tuple[str, tuple[Statement, ...] | None]:
        match = _POLICY_ARN.fullmatch(str(arn))
        if match is None or match.group(1) == "aws":
            return f"AWS-managed `{arn}`", None
        state = self.policies.get((match.group(2), match.group(3)))
        if state is None:
            return f"customer-managed `{arn}` (not in the plan)", None
        name = match.group(3)
        label = f"customer-managed `{name}`"
        policy = state["inputs"].get("policy")
        return label, self._parse(policy, label, str(state.get("urn")), principals=False)

    def read(self) -> PlanIam:
        for state in self._of(ROLE):
            self._read_role(state)
        for state in self._of(ROLE_POLICY):
            inputs = state["inputs"]
            entry = self._role(inputs.get("role"))
            label = f"inline `{inputs.get('name') or _logical_name(state)}`"
            entry.documents[label] = self._parse(
                inputs.get("policy"), label, str(state.get("urn")), principals=False
            )
        for state in self._of(ATTACHMENT):
            inputs = state["inputs"]
            self._attach(self._role(inputs.get("role")), inputs.get("policyArn"))
        for state in self._of(POLICY_ATTACHMENT):
            inputs = state["inputs"]
            for role in inputs.get("roles") or []:
                self._attach(self._role(role), inputs.get("policyArn"))
        self._read_resource_policies()
        return self.iam

    def _read_role(self, state: Mapping[str, Any]) -> None:
        inputs = state["inputs"]
        urn = str(state.get("urn"))
        entry = self._role(urn)
        entry.created = True
        entry.documents[TRUST] = self._parse(
            inputs.get("assumeRolePolicy"), TRUST, urn, principals=True
        )
        for inline in inputs.get("inlinePolicies") or []:
            if isinstance(inline, Mapping) and inline.get("policy"):
                label = f"inline `{inline.get('name')}`"
                entry.documents[label] = self._parse(inline["policy"], label, urn, principals=False)
        for arn in inputs.get("managedPolicyArns") or []:
            self._attach(entry, arn)
        boundary = inputs.get("permissionsBoundary")
        if boundary:
            label, statements = self._policy(boundary)
            entry.boundary = label
            entry.boundary_statements = statements

    def _read_resource_policies(self) -> None:
        for state in self._of(KEY):
            entry = self.iam.entry("KMS key", _logical_name(state))
            entry.created = True
            policy = state["inputs"].get("policy")
            if policy:
                urn = str(state.get("urn"))
                statements = self._parse(policy, "key policy", urn, principals=True)
                entry.documents["key policy"] = statements
            else:
                entry.opaque.add(DEFAULT_KEY_POLICY)
        for kind, owner_types, owner_key, policy_type, policy_key, label in _RESOURCE_POLICIES:
            for owner_type in owner_types:
                for state in self._of(owner_type):
                    name = state["inputs"].get(owner_key)
                    if isinstance(name, str) and name:
                        self.iam.entry(kind, name).created = True
            for state in self._of(policy_type):
                inputs = state["inputs"]
                entry = self.iam.entry(kind, _text(inputs, policy_key, state, self.origin))
                entry.documents[label] = self._parse(
                    inputs.get("policy"), label, str(state.get("urn")), principals=True
                )


def read_plan_iam(plan: Any, origin: str) -> PlanIam:
    """The IAM entries of a parsed plan; `origin` names it in error messages."""
    return _Reader(plan, origin).read()


def load_plan_iam(path: Path) -> PlanIam:
    """The IAM entries of a plan file."""
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PlanError(f"{path}: cannot read: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise PlanError(f"{path}: not JSON ({error})") from None
    return read_plan_iam(plan, str(path))
