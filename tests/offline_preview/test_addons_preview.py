"""The offline preview of stack files with non-default `poolside:addons`: what a reviewer sees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline_preview.__main__ import main

CREATED: dict[str, Any] = {
    "aws:region": "us-east-1",
    "poolside:deploymentName": "acme",
    "poolside:cluster": {
        "kubernetesVersion": "1.33",
        "vpcId": "vpc-0a1b2c3d4e5f60718",
        "privateSubnetIds": ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"],
        "nodeGroups": [{"name": "system"}],
    },
    "poolside:addons": {
        "kubeProxy": {"version": "v1.33.0-eksbuild.2"},
        "coredns": {"enabled": False},
        "metricsServer": {"enabled": True},
        "snapshotController": {"enabled": True, "version": "v8.2.0-eksbuild.1"},
    },
}
EXISTING: dict[str, Any] = {
    "aws:region": "us-gov-west-1",
    "poolside:deploymentName": "acme",
    "poolside:cluster": {
        "existingClusterName": "customer-eks",
        "privateSubnetIds": ["subnet-0a1b2c3d4e5f60001"],
    },
    "poolside:addons": {"manageOnExistingCluster": True, "vpcCni": {"enabled": False}},
}


def preview_json(tmp_path: Path, config: dict[str, Any], capsys: Any) -> dict[str, Any]:
    stack_file = tmp_path / "Pulumi.acme.yaml"
    stack_file.write_text(yaml.safe_dump({"config": config}))
    assert main(["--config-file", str(stack_file), "--format", "json"]) == 0
    parsed: dict[str, Any] = json.loads(capsys.readouterr().out)
    return parsed


def addon_versions(plan: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """EKS add-on name -> (its resource's URN tail, its version)."""
    return {
        step["newState"]["inputs"]["addonName"]: (
            step["urn"].rsplit("::", 1)[1],
            step["newState"]["inputs"]["addonVersion"],
        )
        for step in plan["steps"]
        if step["newState"]["type"] == "aws:eks/addon:Addon"
    }


def test_a_created_clusters_add_ons_as_configured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = preview_json(tmp_path, CREATED, capsys)
    assert addon_versions(plan) == {
        "vpc-cni": ("cluster-vpc-cni", "v1.20.4-eksbuild.1"),
        "kube-proxy": ("cluster-kube-proxy", "v1.33.0-eksbuild.2"),  # pinned
        "aws-ebs-csi-driver": ("cluster-aws-ebs-csi-driver", "v1.51.1-eksbuild.1"),
        "metrics-server": ("cluster-metrics-server", "v0.8.0-eksbuild.2"),
        "snapshot-controller": ("cluster-snapshot-controller", "v8.2.0-eksbuild.1"),  # pinned
    }
    assert plan["outputs"]["ebsCsiDriverRoleArn"] == (
        "arn:aws:iam::123456789012:role/poolside-acme-eks-ebs-csi-role"
    )


def test_an_existing_clusters_add_ons_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = preview_json(tmp_path, EXISTING, capsys)
    # resolved for the existing cluster's version (1.33 in the mocks)
    assert addon_versions(plan) == {
        "kube-proxy": ("cluster-kube-proxy", "v1.33.3-eksbuild.2"),
        "coredns": ("cluster-coredns", "v1.12.4-eksbuild.1"),
        "aws-ebs-csi-driver": ("cluster-aws-ebs-csi-driver", "v1.51.1-eksbuild.1"),
    }
    urns = {step["urn"] for step in plan["steps"]}
    assert "urn:pulumi:acme::poolside::poolside:aws:ClusterAddons::cluster" in urns
    assert plan["outputs"]["ebsCsiDriverRoleArn"] == (
        "arn:aws-us-gov:iam::123456789012:role/poolside-acme-eks-ebs-csi-role"
    )
    assert "vpcCniRoleArn" not in plan["outputs"]


def test_a_bad_version_is_one_line_naming_its_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = {**CREATED, "poolside:addons": {"coredns": {"version": "latest"}}}
    stack_file = tmp_path / "Pulumi.acme.yaml"
    stack_file.write_text(yaml.safe_dump({"config": config}))
    assert main(["--config-file", str(stack_file)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "poolside:addons.coredns.version: must be an EKS add-on version such as "
        'v1.11.4-eksbuild.2 (got "latest")\n'
    )
