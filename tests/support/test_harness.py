"""The harness's cache of runs: a recorded run is what running the program again records."""

from __future__ import annotations

from dataclasses import replace

from offline_preview.engine import RecordedResource, Recording, run_program
from offline_preview.mocks import PoolsideMocks
from tests.support.harness import CLUSTER, engine_config, environment, run_stack

KEYS = {"ecr": {"repositories": ["api"]}}


def by_urn(recording: Recording) -> list[RecordedResource]:
    """The registrations in URN order, dependencies sorted: the SDK registers from several
    threads at once, and gathers a resource's dependencies as a set."""
    return [
        replace(
            r,
            dependencies=sorted(r.dependencies),
            property_dependencies={k: sorted(v) for k, v in r.property_dependencies.items()},
        )
        for r in sorted(recording.resources, key=lambda r: r.urn)
    ]


def test_a_recorded_run_is_what_running_the_program_again_records() -> None:
    cached = run_stack(KEYS)
    config = engine_config({"deploymentName": "acme", "cluster": CLUSTER, **KEYS}, "us-east-1")
    again = run_program(config, PoolsideMocks(environment("aws")), stack="test")
    assert by_urn(cached) == by_urn(again)
    assert cached.stack_outputs == again.stack_outputs


def test_each_caller_gets_its_own_copy() -> None:
    first = run_stack(KEYS)
    first.resources.clear()
    first.stack_outputs.clear()
    second = run_stack(KEYS)
    assert second.resources
    assert second.stack_outputs
