"""Bad input to the config model: the hints and refusals a hand-written stack file needs, by the
whole text of their messages; the `aws:` keys and regions come from the installed `pulumi_aws`."""

from __future__ import annotations

from typing import Any

import pulumi_aws
import pytest
from pydantic.alias_generators import to_camel

from stack_config import (
    StackConfigError,
    aws_config_keys,
    aws_key_problems,
    aws_regions,
    parse_stack_config,
    supported_regions,
)

EXISTING = {"existingClusterName": "acme", "privateSubnetIds": ["subnet-0123456789abcdef0"]}


def problems_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(StackConfigError) as caught:
        parse_stack_config(raw)
    return caught.value.problems


def test_the_provider_keys_are_those_pulumi_aws_config_reads() -> None:
    from pulumi_aws.config import vars as provider_vars

    exported = provider_vars._ExportableConfig
    properties = [name for name, value in vars(exported).items() if isinstance(value, property)]
    assert set(aws_config_keys()) == {to_camel(name) for name in properties}
    assert {"region", "profile", "defaultTags"} <= set(aws_config_keys())


def test_the_regions_are_pulumi_aws_regions_of_the_three_partitions() -> None:
    assert aws_regions() == tuple(region.value for region in pulumi_aws.Region)
    assert {"us-east-1", "us-gov-west-1", "cn-north-1"} <= set(supported_regions())
    assert not any("iso" in region for region in supported_regions())


def test_the_provider_keys_are_checked_and_a_missing_region_only_when_required() -> None:
    config = {"aws:regoin": "us-east-1", "aws:profile": "prod"}
    assert aws_key_problems(config, region_required=False) == [
        "aws:regoin: not a key of the AWS provider; did you mean aws:region?"
    ]
    assert aws_key_problems(config, region_required=True) == [
        "aws:regoin: not a key of the AWS provider; did you mean aws:region?",
        'aws:region: required, an AWS region such as us-east-1 (got "")',
    ]
    assert aws_key_problems({"aws:region": "us-west-2"}, region_required=True) == []


@pytest.mark.parametrize("key", ["region", "profile", "defaultTags"])
def test_a_provider_key_in_the_poolside_namespace_points_to_aws(key: str) -> None:
    assert problems_of({"deploymentName": "acme", "cluster": EXISTING, key: "x"}) == [
        f"poolside:{key}: unknown key; did you mean aws:{key}?"
    ]


@pytest.mark.parametrize(
    ("key", "inner"),
    [("cluster.vpcId", "vpcId"), ("kms.alias", "alias"), ("bastion.subnetId", "subnetId")],
)
def test_a_flattened_key_is_explained_as_needing_nesting(key: str, inner: str) -> None:
    section = key.split(".")[0]
    assert problems_of({"deploymentName": "acme", "cluster": EXISTING, key: "x"}) == [
        f"poolside:{key}: unknown key; sections nest in a stack file: write "
        f"`poolside:{section}:` and `{inner}:` indented below it (or `pulumi config set --path "
        f"poolside:{key} <value>`)"
    ]


def test_the_program_reports_provider_keys_beside_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under `pulumi`, the region may come from AWS_REGION: only a given one is checked."""
    import json
    from contextvars import ContextVar

    from pulumi.runtime import config as runtime_config

    from stack_config import load_stack_config

    monkeypatch.setenv(
        "PULUMI_CONFIG",
        json.dumps(
            {
                "aws:region": "us-west-9",
                "aws:regoin": "us-west-2",
                "poolside:deploymentName": "Acme",
                "poolside:cluster": json.dumps(EXISTING),
            }
        ),
    )
    empty: ContextVar[dict[str, Any]] = ContextVar("no_config")
    empty.set({})
    monkeypatch.setattr(runtime_config, "CONFIG", empty)
    with pytest.raises(StackConfigError) as caught:
        load_stack_config()
    assert caught.value.problems == [
        "aws:regoin: not a key of the AWS provider; did you mean aws:region?",
        "aws:region: must be an AWS region the provider knows, such as us-west-1 or us-west-2 "
        '(got "us-west-9")',
        'poolside:deploymentName: must be a lowercase DNS label of 3-32 characters (got "Acme")',
    ]


CREATED = {
    "vpcId": "vpc-0123456789abcdef0",
    "privateSubnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    "nodeGroups": [{"name": "system"}],
}


def test_the_default_kubernetes_version_is_one_the_program_supports() -> None:
    from stack_config.values import DEFAULT_KUBERNETES_VERSION, KUBERNETES_VERSIONS

    config = parse_stack_config({"deploymentName": "acme", "cluster": CREATED})
    assert config.cluster.kubernetes_version == DEFAULT_KUBERNETES_VERSION == "1.34"
    assert DEFAULT_KUBERNETES_VERSION in KUBERNETES_VERSIONS
    for version in KUBERNETES_VERSIONS:
        cluster = {**CREATED, "kubernetesVersion": version}
        assert parse_stack_config({"deploymentName": "acme", "cluster": cluster})


@pytest.mark.parametrize(
    ("version", "line"),
    [
        (
            "1.99",
            "must be a Kubernetes version this program supports: 1.30, 1.31, 1.32, 1.33, 1.34 "
            '(got "1.99")',
        ),
        (
            "1.29",
            "must be a Kubernetes version this program supports: 1.30, 1.31, 1.32, 1.33, 1.34 "
            '(got "1.29")',
        ),
        (
            1.3,
            'must be text in quotes, such as kubernetesVersion: "1.30" (unquoted, YAML reads 1.30 '
            "as the number 1.3) (got 1.3)",
        ),
        (
            1.34,
            'must be text in quotes, such as kubernetesVersion: "1.30" (unquoted, YAML reads 1.30 '
            "as the number 1.3) (got 1.34)",
        ),
    ],
)
def test_a_kubernetes_version_is_one_of_the_table_and_quoted(version: Any, line: str) -> None:
    cluster = {**CREATED, "kubernetesVersion": version}
    assert problems_of({"deploymentName": "acme", "cluster": cluster}) == [
        f"poolside:cluster.kubernetesVersion: {line}"
    ]


def test_a_numeric_tag_value_says_to_quote_it() -> None:
    tags = {"cost-center": 1234, "billable": True, "team": "ml"}
    assert problems_of({"deploymentName": "acme", "cluster": EXISTING, "tags": tags}) == [
        'poolside:tags["cost-center"]: must be text: quote it ("1234"), or set it with '
        "`pulumi config set --path --type string` (got 1234)",
        'poolside:tags.billable: must be text: quote it ("true"), or set it with '
        "`pulumi config set --path --type string` (got true)",
    ]


def test_a_numeric_or_boolean_label_or_taint_value_says_to_quote_it() -> None:
    group = {
        "name": "gpu",
        "labels": {"tier": 2, "team": "ml"},
        "taints": [{"key": "nvidia.com/gpu", "value": True, "effect": "NO_SCHEDULE"}],
    }
    cluster = {**CREATED, "nodeGroups": [group]}
    assert problems_of({"deploymentName": "acme", "cluster": cluster}) == [
        'poolside:cluster.nodeGroups[0].labels.tier: must be text: quote it ("2"), or set it '
        "with `pulumi config set --path --type string` (got 2)",
        'poolside:cluster.nodeGroups[0].taints[0].value: must be text: quote it ("true"), or '
        "set it with `pulumi config set --path --type string` (got true)",
    ]


def off(section: str, key: str) -> str:
    enabled = f"poolside:{section}.enabled"
    return (
        f"poolside:{section}.{key}: only applies when {enabled} is true; remove it, or set "
        f"{enabled} to true"
    )


def test_settings_of_switched_off_bedrock_are_refused_one_line_per_key() -> None:
    bedrock = {
        "enabled": False,
        "models": ["anthropic.claude-sonnet-4-20250514-v1:0"],
        "inferenceProfiles": [{"id": "us.anthropic.claude-sonnet-4-20250514-v1:0"}],
        "customizationBaseModels": ["amazon.titan-text-express-v1"],
    }
    assert problems_of({"deploymentName": "acme", "cluster": EXISTING, "bedrock": bedrock}) == [
        off("bedrock", "models"),
        off("bedrock", "inferenceProfiles"),
        off("bedrock", "customizationBaseModels"),
    ]


def test_settings_of_a_switched_off_bastion_are_refused_beside_other_problems() -> None:
    bastion = {
        "enabled": False,
        "instanceType": "t3.large",
        "subnetId": "subnet-0123456789abcdef0",
        "amiId": "ami-0123456789abcdef0",
        "installTools": False,
        "existingLockTableName": "locks",
        "rootVolumeSizeGib": 50,
    }
    raw = {"deploymentName": "acme", "cluster": EXISTING, "bastion": bastion, "kms": {"x": 1}}
    assert problems_of(raw) == [
        "poolside:kms.x: unknown key",
        *(
            off("bastion", key)
            for key in (
                "instanceType",
                "subnetId",
                "amiId",
                "installTools",
                "existingLockTableName",
                "rootVolumeSizeGib",
            )
        ),
    ]


@pytest.mark.parametrize("section", ["bedrock", "bastion"])
def test_a_switched_off_section_with_nothing_else_set_is_valid(section: str) -> None:
    config = parse_stack_config(
        {"deploymentName": "acme", "cluster": CREATED, section: {"enabled": False}}
    )
    assert getattr(config, section).enabled is False


def test_only_a_created_private_cluster_without_bastion_is_warned_about() -> None:
    from stack_config import reachability_warnings

    def warnings_of(cluster: dict[str, Any], bastion: dict[str, Any]) -> list[str]:
        raw = {"deploymentName": "acme", "cluster": cluster, "bastion": bastion}
        config = parse_stack_config(raw)
        return reachability_warnings(config.cluster, config.bastion)

    [line] = warnings_of(CREATED, {"enabled": False})
    assert line.startswith("poolside:bastion.enabled: false while the cluster's API endpoint")
    assert warnings_of(CREATED, {}) == []
    assert warnings_of({**EXISTING}, {"enabled": False}) == []
    public = {**CREATED, "endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}
    assert warnings_of(public, {"enabled": False}) == []
