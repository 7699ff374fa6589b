"""What pulumi-eks creates inside its remote components (`components/eks_internals.py`): the
arguments the inventory assumes are the ones the program passes, in every example stack and in
the configurations that change what pulumi-eks creates."""

from __future__ import annotations

import importlib.metadata
from typing import Any

import pytest

from components.eks_internals import (
    CLUSTER,
    MANAGED_NODE_GROUP,
    PASSED,
    PULUMI_EKS_VERSION,
    REMOTE_COMPONENTS,
    RemoteComponent,
)
from offline_preview.engine import Recording
from tests.support.examples import EXAMPLE_STACKS, example_recording
from tests.support.harness import CLUSTER as CLUSTER_CONFIG
from tests.support.harness import PROJECT_ROOT, run_stack

# The configurations whose recorded inputs select different entries of the inventory.
VARIANTS: dict[str, dict[str, Any]] = {
    "config-map-auth": {"cluster": {**CLUSTER_CONFIG, "authenticationMode": "API_AND_CONFIG_MAP"}},
    "no-coredns": {"addons": {"coredns": {"enabled": False}}},
    "public-endpoint": {
        "cluster": {
            **CLUSTER_CONFIG,
            "endpointPublicAccess": True,
            "publicAccessCidrs": ["203.0.113.0/24"],
            "publicSubnetIds": ["subnet-0000000000000000d"],
        }
    },
}


@pytest.fixture(scope="module", params=[*EXAMPLE_STACKS, *VARIANTS])
def plan(request: pytest.FixtureRequest) -> Recording:
    name = request.param
    return example_recording(name) if name in EXAMPLE_STACKS else run_stack(VARIANTS[name])


def test_the_inventory_is_of_the_pinned_pulumi_eks() -> None:
    pins = (PROJECT_ROOT / "requirements.txt").read_text().splitlines()
    assert f"pulumi-eks=={PULUMI_EKS_VERSION}" in pins, (
        "pulumi-eks changed: read its nodejs/eks source again and update "
        "components/eks_internals.py, then PULUMI_EKS_VERSION"
    )
    assert importlib.metadata.version("pulumi_eks") == PULUMI_EKS_VERSION


@pytest.mark.parametrize("component", REMOTE_COMPONENTS, ids=lambda c: c.type)
def test_every_fixed_argument_is_passed_with_its_value(
    plan: Recording, component: RemoteComponent
) -> None:
    recorded = plan.by_type(component.type)
    assert recorded, f"the plan has no {component.type}"
    for resource in recorded:
        for argument in component.fixed:
            assert argument.name in resource.inputs, (resource.name, argument.name)
            if argument.value is not PASSED:
                assert resource.inputs[argument.name] == argument.value, (
                    resource.name,
                    argument.name,
                )


@pytest.mark.parametrize("component", REMOTE_COMPONENTS, ids=lambda c: c.type)
def test_the_program_passes_no_argument_the_inventory_does_not_know(
    plan: Recording, component: RemoteComponent
) -> None:
    """A new argument can make pulumi-eks create more (a storage class, an access entry, a
    Fargate profile): it fails here until the inventory says what it does."""
    known = {a.name for a in component.fixed} | set(component.from_config)
    for resource in plan.by_type(component.type):
        assert set(resource.inputs) <= known, (resource.name, sorted(set(resource.inputs) - known))


def test_the_offline_preview_records_exactly_the_children_it_says(plan: Recording) -> None:
    """Of what a remote component creates inside, the offline preview records only the entries
    marked so (the inner cluster, returned by reference), under their real names."""
    for component in REMOTE_COMPONENTS:
        for resource in plan.by_type(component.type):
            children = sorted((r.type, r.name) for r in plan.resources if r.parent == resource.urn)
            expected = sorted(
                (entry.type, entry.name.format(name=resource.name))
                for entry in component.inside_for(resource.inputs)
                if entry.in_offline_preview
            )
            assert children == expected, resource.name


def test_conditions_name_arguments_the_component_takes() -> None:
    for component in REMOTE_COMPONENTS:
        known = {a.name for a in component.fixed} | set(component.from_config)
        conditions = [e.when for e in component.inside] + [e.when for e in component.by_aws]
        for when in conditions:
            assert set(when) <= known, when


def test_what_changes_with_the_configuration() -> None:
    """The aws-auth ConfigMap only with `API_AND_CONFIG_MAP`; EKS's self-managed add-ons only
    when the program leaves one of the three out; one NodeGroup per managed node group."""
    default = run_stack().one(CLUSTER.type, "cluster-eks")
    config_map = run_stack(VARIANTS["config-map-auth"]).one(CLUSTER.type, "cluster-eks")
    no_coredns = run_stack(VARIANTS["no-coredns"]).one(CLUSTER.type, "cluster-eks")

    def inside(inputs: dict[str, Any]) -> list[str]:
        return [e.type for e in CLUSTER.inside_for(inputs)]

    assert inside(default.inputs) == ["aws:eks/cluster:Cluster", "pulumi:providers:kubernetes"]
    assert inside(config_map.inputs) == [
        "aws:eks/cluster:Cluster",
        "pulumi:providers:kubernetes",
        "kubernetes:core/v1:ConfigMap",
    ]
    self_managed = [e for e in CLUSTER.by_aws if e.when]
    assert [e for e in CLUSTER.by_aws_for(default.inputs) if e in self_managed] == []
    assert [e for e in CLUSTER.by_aws_for(no_coredns.inputs) if e in self_managed] == self_managed
    groups = run_stack().by_type(MANAGED_NODE_GROUP.type)
    assert [
        [e.name.format(name=g.name) for e in MANAGED_NODE_GROUP.inside_for(g.inputs)]
        for g in groups
    ] == [[g.name] for g in groups]
