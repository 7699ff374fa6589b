"""The README's steps work as written: its `pulumi config set` lines make stacks the program accepts.

Each marked block (`<!-- readme-test: NAME -->` before a fenced block) is applied in order to an
empty stack with the Pulumi CLI's `--path` rules (`tests/support/pulumi_config.py`), written out
as a stack file and run through the offline preview.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.harness import PROJECT_ROOT
from tests.support.preview import run_preview
from tests.support.pulumi_config import ConfigSetError, apply_lines, coerce, parse_property_path

README = (PROJECT_ROOT / "README.md").read_text()


def block(name: str) -> list[str]:
    """The lines of the fenced block after `<!-- readme-test: name -->`."""
    match = re.search(rf"<!-- readme-test: {name} -->\n```sh\n(.*?)\n```", README, re.S)
    assert match is not None, f"README has no block marked readme-test: {name}"
    return match.group(1).splitlines()


def stack_file(tmp_path: Path, config: dict[str, Any]) -> str:
    path = tmp_path / "Pulumi.acme.yaml"
    path.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    return str(path)


def test_the_new_stack_lines_build_exactly_this_config() -> None:
    assert apply_lines(block("new-stack")) == {
        "aws:region": "us-east-1",
        "poolside:deploymentName": "acme",
        "poolside:cluster": {
            "vpcId": "vpc-0123456789abcdef0",
            "privateSubnetIds": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
            "nodeGroups": [
                {"name": "system", "instanceTypes": ["m6i.xlarge"]},
                {
                    "name": "gpu",
                    "instanceTypes": ["g6e.12xlarge"],
                    "gpu": True,
                    "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}],
                },
            ],
        },
        "poolside:tags": {"cost-center": "4410"},
    }


def inputs(states: list[dict[str, Any]], type_: str) -> list[dict[str, Any]]:
    return [s["inputs"] for s in states if s["type"] == type_]


def test_the_new_stack_is_accepted_and_planned(tmp_path: Path) -> None:
    path = stack_file(tmp_path, apply_lines(block("new-stack")))
    states = run_preview("--config-file", path, "--format", "json").states()
    groups = {g["nodeGroupName"]: g for g in inputs(states, "eks:index:ManagedNodeGroup")}
    assert sorted(groups) == ["poolside-acme-gpu", "poolside-acme-system"]
    gpu, system = groups["poolside-acme-gpu"], groups["poolside-acme-system"]
    assert gpu["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert (gpu["amiType"], gpu["instanceTypes"]) == ("AL2023_x86_64_NVIDIA", ["g6e.12xlarge"])
    assert (system["amiType"], system["instanceTypes"]) == (
        "AL2023_x86_64_STANDARD",
        ["m6i.xlarge"],
    )
    [key] = inputs(states, "aws:kms/key:Key")
    assert key["tags"] == {"cost-center": "4410", "poolside:deployment": "acme"}


def test_without_type_string_the_taint_value_is_refused_with_the_fix(tmp_path: Path) -> None:
    lines = [line.replace(" --type string", "") for line in block("new-stack")]
    preview = run_preview("--config-file", stack_file(tmp_path, apply_lines(lines)))
    assert preview.exit_code == 2
    assert preview.stderr.splitlines() == [
        'poolside:tags["cost-center"]: must be text: quote it ("4410"), or set it with '
        "`pulumi config set --path --type string` (got 4410)",
        'poolside:cluster.nodeGroups[1].taints[0].value: must be text: quote it ("true"), or '
        "set it with `pulumi config set --path --type string` (got true)",
    ]


def test_the_existing_cluster_lines_are_accepted_with_the_documented_account(
    tmp_path: Path,
) -> None:
    config = apply_lines(block("existing-cluster"))
    assert config["poolside:cluster"] == {
        "existingClusterName": "customer-eks",
        "existingOidcProviderArn": (
            "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/"
            "BD0C7A150F892A2F48149994A3B672D3"
        ),
    }
    path = stack_file(tmp_path, config)
    preview = run_preview("--config-file", path, "--account-id", "111122223333", "--format", "json")
    states = preview.states()
    assert not inputs(states, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert not inputs(states, "eks:index:Cluster")
    outputs = json.loads(preview.stdout)["outputs"]
    assert outputs["oidcProviderArn"] == config["poolside:cluster"]["existingOidcProviderArn"]
    assert outputs["clusterName"] == "customer-eks"
    # The README says why the account matters: in another account the provider is refused.
    other = run_preview("--config-file", path)
    assert other.exit_code == 2
    assert other.stderr.startswith("poolside:cluster.existingOidcProviderArn: ")


def test_the_readme_is_a_front_page() -> None:
    assert len(README.encode()) <= 10 * 1024
    for target in re.findall(r"\]\(((?:docs|tests)/[^)#]*)\)", README):
        assert (PROJECT_ROOT / target).exists(), target
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    for target in set(re.findall(r"\bmake (\w[\w-]*)", README)):
        assert re.search(rf"^{target}:", makefile, re.M), f"make {target}"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("false", False),
        ("30", 30),
        ("0", 0),
        ("0123", "0123"),
        ("1.34", "1.34"),
        ("True", "True"),
        ("-5", -5),
        ("vpc-0a", "vpc-0a"),
    ],
)
def test_path_values_coerce_as_the_cli_does(text: str, value: Any) -> None:
    assert coerce(text) == value
    assert type(coerce(text)) is type(value)


def test_paths_parse_and_build_containers_as_the_cli_does() -> None:
    assert parse_property_path('tags["example.com/team"]') == ["tags", "example.com/team"]
    assert parse_property_path("cluster.nodeGroups[0].taints[1].key") == [
        "cluster",
        "nodeGroups",
        0,
        "taints",
        1,
        "key",
    ]
    config = apply_lines(
        [
            "pulumi config set --path 'poolside:tags[\"example.com/team\"]' ml",
            "pulumi config set --path poolside:kms.deletionWindowInDays 30",
            "pulumi config set --path poolside:deploymentName 007",
            "pulumi config set poolside:deploymentPrefix 12",
            "pulumi config set --path poolside:bastion.enabled false --type string",
        ]
    )
    assert config == {
        "poolside:tags": {"example.com/team": "ml"},
        "poolside:kms": {"deletionWindowInDays": 30},
        "poolside:deploymentName": "007",
        "poolside:deploymentPrefix": "12",
        "poolside:bastion": {"enabled": "false"},
    }


@pytest.mark.parametrize(
    "line",
    [
        "pulumi config set --path 'poolside:cluster.privateSubnetIds[1]' subnet-0",  # skips [0]
        "pulumi config set --path 'poolside:[0]' x",
        "pulumi config set --path poolside:cluster.nodeGroups[x] y",
        "pulumi config set --secret poolside:x y",
    ],
)
def test_what_the_cli_refuses_is_refused(line: str) -> None:
    with pytest.raises(ConfigSetError):
        apply_lines([line])
