"""Day 2: every type the plan creates has a decided replacement (`components/replacement.py`),
and the resource options the engine receives carry it, in every example stack and mode."""

from __future__ import annotations

from typing import Any

import pytest

from components.replacement import (
    AUTO_NAMED,
    DELETE_FIRST,
    FOLLOWS_PARENT,
    MIGRATION,
    PROTECTED,
    RENAME_IN_CONFIG,
    RENAMED,
    REPLACEMENT,
    UNNAMED,
)
from offline_preview.engine import RecordedResource, Recording
from tests.support.harness import CLUSTER, PARTITIONS, run_stack

EXISTING = {
    "existingClusterName": "customer-eks",
    "privateSubnetIds": [CLUSTER["privateSubnetIds"][0]],
}


def program_resources(recording: Recording) -> list[RecordedResource]:
    """What the program registers itself: not the children a remote component (pulumi-eks)
    creates inside its provider, whose options are the component's."""
    remote = {r.urn for r in recording.resources if r.type.startswith("eks:index:")}
    return [r for r in recording.resources if r.custom and r.parent not in remote]


@pytest.fixture(
    scope="module",
    params=[
        *((partition, "created") for partition in PARTITIONS),
        ("aws", "existing"),
        ("aws", "service-accounts"),
    ],
    ids=lambda p: f"{p[0]}-{p[1]}",
)
def recording(request: pytest.FixtureRequest) -> Recording:
    partition, mode = request.param
    keys: dict[str, Any] = {}
    if mode == "existing":
        keys["cluster"] = EXISTING
    if mode == "service-accounts":
        keys["cluster"] = {**CLUSTER, "createServiceAccounts": True}
    return run_stack(keys, partition=partition)


def test_every_type_has_a_decided_replacement(recording: Recording) -> None:
    undecided = sorted({r.type for r in program_resources(recording)} - set(REPLACEMENT))
    assert undecided == [], "decide in components/replacement.py how these are replaced"


def test_the_engine_receives_each_decision(recording: Recording) -> None:
    for resource in program_resources(recording):
        decision = REPLACEMENT[resource.type]
        where = f"{resource.type} {resource.name}"
        assert resource.delete_before_replace is (decision == DELETE_FIRST), where
        if decision == PROTECTED:
            assert resource.protect and resource.retain_on_delete, where
        else:
            assert not resource.protect, where
        if decision == RENAMED:
            assert "name" not in resource.inputs, where
            assert resource.inputs["namePrefix"].endswith("-"), where
        if decision in (AUTO_NAMED, UNNAMED, FOLLOWS_PARENT):
            assert "name" not in resource.inputs and "namePrefix" not in resource.inputs, where


def test_roles_detach_their_policies_to_be_deleted_first(recording: Recording) -> None:
    roles = [r for r in recording.resources if r.type == "aws:iam/role:Role"]
    assert roles
    assert all(r.inputs["forceDetachPolicies"] is True for r in roles)


def test_the_bastions_group_is_named_from_the_deployment() -> None:
    [group] = run_stack().by_type("aws:ec2/securityGroup:SecurityGroup")
    assert group.inputs["namePrefix"] == "poolside-acme-bastion-"


def test_data_left_to_the_stack_is_neither_retained_nor_protected() -> None:
    """`retainOnDelete: false` (data the stack may delete) leaves replacement unprotected too."""
    recording = run_stack(
        {
            "kms": {"retainOnDelete": False},
            "bucket": {"retainOnDelete": False},
            "ecr": {"repositories": ["api"], "retainOnDelete": False},
            "inference": {"retainOnDelete": False},
        }
    )
    data = [
        r
        for r in recording.resources
        if r.type in ("aws:kms/key:Key", "aws:s3/bucket:Bucket", "aws:ecr/repository:Repository")
    ]
    assert len(data) == 4  # key, data bucket, models bucket, repository
    assert all(not r.protect and not r.retain_on_delete for r in data)
    # the lock table is always kept: locks guard state held elsewhere
    [table] = recording.by_type("aws:dynamodb/table:Table")
    assert table.protect and table.retain_on_delete


def test_every_decision_is_used_or_documented() -> None:
    """No category the module names goes unused by the table (a typo would hide a type)."""
    used = set(REPLACEMENT.values())
    assert used == {
        DELETE_FIRST,
        RENAMED,
        AUTO_NAMED,
        PROTECTED,
        RENAME_IN_CONFIG,
        FOLLOWS_PARENT,
        UNNAMED,
        MIGRATION,
    }
