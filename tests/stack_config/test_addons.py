"""`poolside:addons`: defaults, pinned versions, and one line naming the key for every bad value
or setting the program would ignore."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stack_config import AddonsConfig, StackConfig, StackConfigError, parse_stack_config
from tests.support.harness import CLUSTER

EXISTING = {"existingClusterName": "customer-eks", "privateSubnetIds": ["subnet-0123456789abcdef0"]}
KEYS = ("vpcCni", "kubeProxy", "coredns", "ebsCsiDriver", "metricsServer", "snapshotController")


def parse(addons: Any, cluster: dict[str, Any] | None = None) -> StackConfig:
    return parse_stack_config(
        {"deploymentName": "acme", "cluster": cluster or CLUSTER, "addons": addons}
    )


def problems(addons: Any, cluster: dict[str, Any] | None = None) -> list[str]:
    with pytest.raises(StackConfigError) as caught:
        parse(addons, cluster)
    return caught.value.problems


def test_defaults_manage_the_four_add_ons_a_cluster_needs() -> None:
    config = parse_stack_config({"deploymentName": "acme", "cluster": CLUSTER})
    addons = config.addons
    assert {key: (s.enabled, s.version) for key, s in addons.settings.items()} == {
        "vpcCni": (True, None),
        "kubeProxy": (True, None),
        "coredns": (True, None),
        "ebsCsiDriver": (True, None),
        "metricsServer": (False, None),
        "snapshotController": (False, None),
    }
    assert addons.manage_on_existing_cluster is False
    assert addons == AddonsConfig.model_validate({})


def test_every_add_on_takes_a_pinned_version_and_a_switch() -> None:
    raw = {
        key: {"enabled": key != "coredns", "version": f"v1.{i}.0-eksbuild.{i + 1}"}
        for i, key in enumerate(KEYS)
    }
    addons = parse(raw).addons
    assert {key: (s.enabled, s.version) for key, s in addons.settings.items()} == {
        "vpcCni": (True, "v1.0.0-eksbuild.1"),
        "kubeProxy": (True, "v1.1.0-eksbuild.2"),
        "coredns": (False, "v1.2.0-eksbuild.3"),
        "ebsCsiDriver": (True, "v1.3.0-eksbuild.4"),
        "metricsServer": (True, "v1.4.0-eksbuild.5"),
        "snapshotController": (True, "v1.5.0-eksbuild.6"),
    }


def test_the_section_arrives_as_engine_json() -> None:
    config = parse_stack_config(
        {
            "deploymentName": "acme",
            "cluster": json.dumps(CLUSTER),
            "addons": json.dumps({"metricsServer": {"enabled": True}}),
        }
    )
    assert config.addons.metrics_server.enabled is True


@pytest.mark.parametrize("key", KEYS)
def test_a_version_that_is_not_an_eks_build_names_its_key(key: str) -> None:
    assert problems({key: {"version": "latest"}}) == [
        f"poolside:addons.{key}.version: must be an EKS add-on version such as "
        f'v1.11.4-eksbuild.2 (got "latest")'
    ]


@pytest.mark.parametrize("version", ["1.19.0-eksbuild.1", "v1.19.0", "v1.19-eksbuild.1", ""])
def test_near_misses_are_refused(version: str) -> None:
    assert problems({"coredns": {"version": version}}) == [
        f"poolside:addons.coredns.version: must be an EKS add-on version such as "
        f"v1.11.4-eksbuild.2 (got {json.dumps(version)})"
    ]


def test_every_bad_value_is_reported_at_once() -> None:
    assert problems(
        {
            "vpcCni": {"version": "v1.19.0-eksbuild.x"},
            "metricsServer": {"enabled": "sometimes"},
            "manageOnExistingCluster": "no-thanks",
        }
    ) == [
        'poolside:addons.vpcCni.version: must be an EKS add-on version such as v1.11.4-eksbuild.2 (got "v1.19.0-eksbuild.x")',
        'poolside:addons.metricsServer.enabled: must be a valid boolean, unable to interpret input (got "sometimes")',
        'poolside:addons.manageOnExistingCluster: must be a valid boolean, unable to interpret input (got "no-thanks")',
    ]


def test_unknown_keys_are_refused_with_a_suggestion() -> None:
    assert problems({"metricServer": {"enabled": True}, "coredns": {"pinned": "v1"}}) == [
        "poolside:addons.coredns.pinned: unknown key",
        "poolside:addons.metricServer: unknown key; did you mean poolside:addons.metricsServer?",
    ]


def test_manage_on_existing_cluster_needs_an_existing_cluster() -> None:
    assert problems({"manageOnExistingCluster": True}) == [
        "poolside:addons.manageOnExistingCluster: only applies to an existing cluster "
        "(poolside:cluster.existingClusterName); the program always manages the enabled "
        "add-ons of a cluster it creates"
    ]
    assert parse({"manageOnExistingCluster": False}).addons.manage_on_existing_cluster is False


def test_an_existing_clusters_add_on_settings_need_manage_on_existing_cluster() -> None:
    assert problems(
        {"coredns": {"enabled": False}, "metricsServer": {"enabled": True}}, EXISTING
    ) == [
        f"poolside:addons.{key}: the program manages no add-on of an existing cluster unless "
        "poolside:addons.manageOnExistingCluster is true: set it, or remove this key"
        for key in ("coredns", "metricsServer")
    ]


def test_an_existing_cluster_takes_add_on_settings_when_managed() -> None:
    addons = parse(
        {
            "manageOnExistingCluster": True,
            "coredns": {"enabled": False},
            "ebsCsiDriver": {"version": "v1.40.0-eksbuild.1"},
        },
        EXISTING,
    ).addons
    assert addons.manage_on_existing_cluster is True
    assert addons.coredns.enabled is False
    assert addons.ebs_csi_driver.version == "v1.40.0-eksbuild.1"
    # the section itself may stay empty for an existing cluster
    assert parse({}, EXISTING).addons == AddonsConfig.model_validate({})


def test_the_existing_cluster_rule_is_reported_beside_other_sections_errors() -> None:
    with pytest.raises(StackConfigError) as caught:
        parse_stack_config(
            {
                "deploymentName": "acme",
                "cluster": EXISTING,
                "addons": {"kubeProxy": {"version": "v1.33.3-eksbuild.2"}},
                "kms": {"deletionWindowInDays": 3},
            }
        )
    assert caught.value.problems == [
        "poolside:kms.deletionWindowInDays: must be 7-30 days (got 3)",
        "poolside:addons.kubeProxy: the program manages no add-on of an existing cluster unless "
        "poolside:addons.manageOnExistingCluster is true: set it, or remove this key",
    ]
