"""The specification's vocabulary: how each role and policy the program creates answers to it.

The specification is Poolside's "IAM Policies for Poolside Deployment on AWS"
(`spec/poolside-aws-iam-policies.txt` in the team's shared folder; the program never reads it).
It names each policy under a heading, grouped by the role that holds it. Each policy module
declares, next to its policy functions, the `PolicyOrigin` of every policy it builds: the spec's
heading (or, for a policy the spec does not list, a heading of its own and what it follows), and
each way it departs from the spec, with the reason. `policies/catalog.py` collects them; the
review document (`docs/iam/<stack>.md`) prints them for the policies a stack's plan attaches.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SpecSection(StrEnum):
    """The specification's sections, one per role (or component) whose policies it lists."""

    EKS_POD_ROLE = "EKS Pod Role"
    BASTION_HOST = "Bastion Host Policies"
    LOAD_BALANCER_CONTROLLER = "Load Balancer Controller Policy"


class Change(StrEnum):
    """How a policy departs from the specification's text."""

    TIGHTER = "tighter"
    """Fewer resources or more conditions than the spec writes."""
    ADDED = "added"
    """An action the spec's list leaves out, which the named capability needs."""
    OMITTED = "omitted"
    """Not created at all in some stacks."""
    SPLIT = "split"
    """One spec policy as several IAM policies."""


@dataclass(frozen=True)
class Departure:
    change: Change
    what: str
    why: str


@dataclass(frozen=True)
class PolicyOrigin:
    """Where a customer-managed policy comes from."""

    heading: str
    """The spec's heading (`S3 Access Policy`), or a heading of its own for a policy the spec
    does not list."""
    in_spec: bool
    source: str = ""
    """What it follows beyond the spec's text: a vendor's published policy or guide, Poolside's
    documentation (always given for a policy the spec does not list)."""
    departures: tuple[Departure, ...] = ()
    omitted_when: str = ""
    """When the program does not create this policy: "not created when <omitted_when>" (shown for
    a stack whose plan has no such policy)."""


@dataclass(frozen=True)
class RoleOrigin:
    """Where a role comes from: a spec section, or why the deployment needs it beyond the spec."""

    section: SpecSection | None
    why: str
