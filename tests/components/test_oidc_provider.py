"""The cluster's IAM OIDC provider, created or reused, and an IRSA role's trust in it."""

from __future__ import annotations

import pytest

from tests.support.cluster import SUFFIX, build, cluster_config, issuer_of
from tests.support.harness import ACCOUNT_ID, PARTITIONS, REGIONS, run_stack
from tests.support.policies import irsa_trust, policy


@pytest.mark.parametrize("partition", PARTITIONS)
def test_oidc_provider_has_the_sts_audience_and_no_thumbprint(partition: str) -> None:
    recording = run_stack(partition=partition, program=lambda: build(partition, cluster_config()))
    provider = recording.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "oidc-provider")
    issuer_url = recording.stack_outputs["issuerUrl"]
    assert issuer_url.startswith(f"https://oidc.eks.{REGIONS[partition]}.{SUFFIX[partition]}/id/")
    assert provider.inputs["url"] == issuer_url
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert "thumbprintLists" not in provider.inputs
    issuer = issuer_url.removeprefix("https://")
    assert recording.stack_outputs["issuer"] == issuer
    assert recording.stack_outputs["providerArn"] == (
        f"arn:{partition}:iam::{ACCOUNT_ID}:oidc-provider/{issuer}"
    )


@pytest.mark.parametrize("partition", PARTITIONS)
def test_irsa_trust_is_the_provider_with_sub_and_aud_string_equals(partition: str) -> None:
    recording = run_stack(partition=partition, program=lambda: build(partition, cluster_config()))
    issuer = issuer_of(recording)
    role = recording.one("aws:iam/role:Role", "pod-role")
    assert role.inputs["name"] == "poolside-acme-eks-pod-role"
    assert role.parent == recording.one("poolside:aws:IamRole", "pod").urn
    assert policy(role, "assumeRolePolicy") == irsa_trust(
        partition,
        issuer,
        [
            "system:serviceaccount:poolside:poolside-api",
            "system:serviceaccount:poolside:poolside-worker",
        ],
    )


def test_existing_provider_is_reused_not_created() -> None:
    config = cluster_config(existingClusterName="customer-eks")
    arn = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXISTING"
    recording = run_stack(program=lambda: build("aws", config, existing_provider=arn))
    assert recording.by_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    assert recording.stack_outputs["providerArn"] == arn
    trust = policy(recording.one("aws:iam/role:Role", "pod-role"), "assumeRolePolicy")
    assert trust["Statement"][0]["Principal"] == {"Federated": arn}
