"""The deployment's ECR repositories, all under the `poolside-<deploymentName>/` namespace."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from aws_environment import AwsEnvironment
from components.replacement import data
from policies.documents import Statement, statement

# Registry-level actions: IAM grants them on `*` only (they name no repository).
REGISTRY_ACTIONS = ("ecr:GetAuthorizationToken",)
PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
# BatchCheckLayerAvailability: a push first asks which layers the repository already has.
PUSH_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
)


@dataclass(frozen=True)
class EcrRepositoriesArgs:
    env: AwsEnvironment
    namespace: str
    repositories: list[str]
    kms_key_arn: pulumi.Input[str]
    image_tag_mutability: str
    scan_on_push: bool
    untagged_image_expiration_days: int
    tags: dict[str, str]
    retain_on_delete: bool = True


def untagged_image_lifecycle_policy(days: int) -> str:
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"Expire untagged images after {days} days",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": days,
                    },
                    "action": {"type": "expire"},
                }
            ]
        },
        separators=(",", ":"),
    )


def _by_repository(values: dict[str, pulumi.Output[str]]) -> pulumi.Output[dict[str, str]]:
    """One output mapping each configured repository to a value, in a stable order."""
    if not values:  # Output.all() of nothing resolves to a list, not a mapping
        return pulumi.Output.from_input({})
    return pulumi.Output.all(**values).apply(lambda resolved: dict(sorted(resolved.items())))


class EcrRepositories(pulumi.ComponentResource):
    """One repository per configured name, scanned on push and encrypted with the key."""

    names: pulumi.Output[dict[str, str]]
    arns: pulumi.Output[dict[str, str]]
    urls: pulumi.Output[dict[str, str]]

    def __init__(
        self, name: str, args: EcrRepositoriesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("poolside:aws:EcrRepositories", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, retain_on_delete=args.retain_on_delete)
        self.namespace = args.namespace
        # Every repository of this deployment, and no other: the trailing `/` keeps deployment
        # `acme` from matching `poolside-acmecorp/...`.
        self.namespace_arn_pattern = args.env.regional_arn("ecr", f"repository/{args.namespace}/*")

        self.repositories: dict[str, aws.ecr.Repository] = {}
        lifecycle = untagged_image_lifecycle_policy(args.untagged_image_expiration_days)
        for repo in args.repositories:
            logical = f"{name}-{repo.replace('/', '-')}"
            repository = aws.ecr.Repository(
                logical,
                name=f"{args.namespace}/{repo}",
                image_tag_mutability=args.image_tag_mutability,
                image_scanning_configuration={"scan_on_push": args.scan_on_push},
                encryption_configurations=[{"encryption_type": "KMS", "kms_key": args.kms_key_arn}],
                force_delete=False,
                tags=args.tags,
                opts=data(self, retain=args.retain_on_delete),
            )
            aws.ecr.LifecyclePolicy(
                f"{logical}-lifecycle",
                repository=repository.name,
                policy=lifecycle,
                opts=child,
            )
            self.repositories[repo] = repository

        self.names = _by_repository({k: r.name for k, r in self.repositories.items()})
        self.arns = _by_repository({k: r.arn for k, r in self.repositories.items()})
        self.urls = _by_repository({k: r.repository_url for k, r in self.repositories.items()})
        self.register_outputs({"names": self.names, "arns": self.arns, "urls": self.urls})

    def grant_pull(self, sid_prefix: str = "Ecr") -> list[Statement]:
        """Log in to the registry and pull images from this deployment's repositories."""
        return [
            statement(f"{sid_prefix}Login", REGISTRY_ACTIONS, "*"),
            statement(f"{sid_prefix}Pull", PULL_ACTIONS, [self.namespace_arn_pattern]),
        ]

    def grant_push(self, sid_prefix: str = "Ecr") -> list[Statement]:
        """Log in, pull and push images to this deployment's repositories."""
        return [
            statement(f"{sid_prefix}Login", REGISTRY_ACTIONS, "*"),
            statement(
                f"{sid_prefix}PushPull", PULL_ACTIONS + PUSH_ACTIONS, [self.namespace_arn_pattern]
            ),
        ]
