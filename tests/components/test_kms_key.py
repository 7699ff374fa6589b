"""The deployment's KMS key and its alias: exact inputs, options and its grant."""

from __future__ import annotations

import json
import re

import pulumi
import pytest

from components.kms_key import ExistingKey, KmsKey, KmsKeyArgs
from policies.documents import document, render
from tests.support.harness import ACCOUNT_ID, PARTITIONS, TAGS, environment, run_stack
from tests.support.policies import policy


def build_key(partition: str, retain: bool = True) -> None:
    key = KmsKey(
        "kms",
        KmsKeyArgs(
            env=environment(partition),
            alias="alias/poolside-acme",
            deletion_window_in_days=7,
            description="test key",
            tags=TAGS,
            retain_on_delete=retain,
        ),
    )
    pulumi.export("grant", render(document(key.grant_encrypt_decrypt())))
    pulumi.export("arn", key.arn)


@pytest.mark.parametrize("partition", PARTITIONS)
def test_kms_key_rotates_and_lets_iam_policies_grant_use(partition: str) -> None:
    recording = run_stack(partition=partition, program=lambda: build_key(partition))
    key = recording.one("aws:kms/key:Key", "kms-key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 7
    assert key.inputs["keyUsage"] == "ENCRYPT_DECRYPT"
    assert key.inputs["customerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
    assert key.inputs["tags"] == TAGS
    assert key.retain_on_delete is True
    assert policy(key) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EnableIamPoliciesForThisAccount",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{ACCOUNT_ID}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    alias = recording.one("aws:kms/alias:Alias", "kms-alias")
    assert alias.inputs["name"] == "alias/poolside-acme"
    assert alias.inputs["targetKeyId"] == key.outputs["keyId"]
    assert alias.parent == recording.one("poolside:aws:KmsKey", "kms").urn


def test_key_grant_is_envelope_encryption_on_this_key_only() -> None:
    recording = run_stack(program=lambda: build_key("aws"))
    arn = recording.stack_outputs["arn"]
    assert re.fullmatch(r"arn:aws:kms:us-east-1:123456789012:key/[0-9a-f-]{36}", arn)
    assert json.loads(recording.stack_outputs["grant"])["Statement"] == [
        {
            "Sid": "UseDeploymentKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"],
            "Resource": [arn],
        }
    ]


def test_key_can_be_deleted_with_the_stack_when_asked() -> None:
    recording = run_stack(program=lambda: build_key("aws", retain=False))
    assert not recording.one("aws:kms/key:Key", "kms-key").retain_on_delete
    assert not recording.one("aws:kms/alias:Alias", "kms-alias").retain_on_delete


def test_an_existing_key_grants_as_a_created_one_and_has_no_alias() -> None:
    arn = "arn:aws:kms:us-east-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef"
    key = ExistingKey(arn)
    assert key.grant_encrypt_decrypt() == [
        {
            "Sid": "UseDeploymentKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"],
            "Resource": [arn],
        }
    ]
    assert key.alias_name is None
