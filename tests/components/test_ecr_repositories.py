"""The deployment's ECR repositories: exact inputs, options, lifecycle policy and grants."""

from __future__ import annotations

import json

import pulumi
import pytest

from components.ecr_repositories import EcrRepositories, EcrRepositoriesArgs
from policies.documents import document, render
from tests.support.harness import (
    ACCOUNT_ID,
    KEY_ARN,
    PARTITIONS,
    REGIONS,
    TAGS,
    environment,
    run_stack,
)
from tests.support.policies import iam_match


def build_repositories(partition: str, repositories: list[str]) -> None:
    ecr = EcrRepositories(
        "ecr",
        EcrRepositoriesArgs(
            env=environment(partition),
            namespace="poolside-acme",
            repositories=repositories,
            kms_key_arn=KEY_ARN[partition],
            image_tag_mutability="IMMUTABLE",
            scan_on_push=True,
            untagged_image_expiration_days=10,
            tags=TAGS,
        ),
    )
    pulumi.export("push", render(document(ecr.grant_push())))
    pulumi.export("pull", render(document(ecr.grant_pull())))
    pulumi.export("urls", ecr.urls)
    pulumi.export("names", ecr.names)


@pytest.mark.parametrize("partition", PARTITIONS)
def test_ecr_repositories_are_namespaced_scanned_encrypted_and_expire_untagged(
    partition: str,
) -> None:
    recording = run_stack(
        partition=partition, program=lambda: build_repositories(partition, ["api", "team/web"])
    )
    repos = recording.by_type("aws:ecr/repository:Repository")
    assert sorted(r.inputs["name"] for r in repos) == [
        "poolside-acme/api",
        "poolside-acme/team/web",
    ]
    for repo in repos:
        assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
        assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
        assert repo.inputs["encryptionConfigurations"] == [
            {"encryptionType": "KMS", "kmsKey": KEY_ARN[partition]}
        ]
        assert repo.inputs["forceDelete"] is False
        assert repo.inputs["tags"] == TAGS
        assert repo.retain_on_delete
    lifecycles = recording.by_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    assert sorted(r.inputs["repository"] for r in lifecycles) == [
        "poolside-acme/api",
        "poolside-acme/team/web",
    ]
    assert json.loads(lifecycles[0].inputs["policy"]) == {
        "rules": [
            {
                "rulePriority": 1,
                "description": "Expire untagged images after 10 days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": 10,
                },
                "action": {"type": "expire"},
            }
        ]
    }
    suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    registry = f"{ACCOUNT_ID}.dkr.ecr.{REGIONS[partition]}.{suffix}"
    assert recording.stack_outputs["urls"] == {
        "api": f"{registry}/poolside-acme/api",
        "team/web": f"{registry}/poolside-acme/team/web",
    }


@pytest.mark.parametrize("partition", PARTITIONS)
def test_ecr_grants_reach_this_deployments_repositories_only(partition: str) -> None:
    recording = run_stack(partition=partition, program=lambda: build_repositories(partition, []))
    pattern = f"arn:{partition}:ecr:{REGIONS[partition]}:{ACCOUNT_ID}:repository/poolside-acme/*"
    login = {
        "Sid": "EcrLogin",
        "Effect": "Allow",
        "Action": ["ecr:GetAuthorizationToken"],
        "Resource": "*",
    }
    assert json.loads(recording.stack_outputs["pull"])["Statement"] == [
        login,
        {
            "Sid": "EcrPull",
            "Effect": "Allow",
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Resource": [pattern],
        },
    ]
    push = json.loads(recording.stack_outputs["push"])["Statement"]
    assert push[1]["Action"] == [
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchCheckLayerAvailability",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "ecr:PutImage",
    ]
    assert push[1]["Resource"] == [pattern]
    assert recording.stack_outputs["names"] == {}


def test_ecr_pattern_does_not_reach_a_neighbouring_deployment() -> None:
    recording = run_stack(program=lambda: build_repositories("aws", []))
    [pattern] = json.loads(recording.stack_outputs["pull"])["Statement"][1]["Resource"]
    prefix = f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/"
    assert iam_match(pattern, prefix + "poolside-acme/api")
    assert iam_match(pattern, prefix + "poolside-acme/team/web")
    assert not iam_match(pattern, prefix + "poolside-acmecorp/api")
    assert not iam_match(pattern, prefix + "poolside-acme")
    assert not iam_match(pattern, f"arn:aws:ecr:us-west-2:{ACCOUNT_ID}:repository/poolside-acme/a")
