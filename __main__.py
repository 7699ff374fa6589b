"""Poolside on AWS: reads the stack config once, builds the components in dependency order."""

import pulumi

from aws_environment import AwsEnvironment
from components.bucket import Bucket, BucketArgs
from components.ecr_repositories import EcrRepositories, EcrRepositoriesArgs
from components.kms_key import KmsKey, KmsKeyArgs
from stack_config import load_stack_config

config = load_stack_config()  # raises before anything is registered when the config is invalid
env = AwsEnvironment.lookup()
tags = config.resource_tags

key = KmsKey(
    "kms",
    KmsKeyArgs(
        env=env,
        alias=config.kms.alias or f"alias/{config.prefix}",
        deletion_window_in_days=config.kms.deletion_window_in_days,
        description=f"Poolside deployment {config.deployment_name}: data, images and secrets",
        tags=tags,
        retain_on_delete=config.kms.retain_on_delete,
    ),
)

bucket = Bucket(
    "data",
    BucketArgs(
        bucket_name=config.bucket.name or f"{config.prefix}-{env.account_id}",
        kms_key_arn=key.arn,
        noncurrent_version_expiration_days=config.bucket.noncurrent_version_expiration_days,
        tags=tags,
        retain_on_delete=config.bucket.retain_on_delete,
    ),
)

repositories = EcrRepositories(
    "ecr",
    EcrRepositoriesArgs(
        env=env,
        namespace=config.ecr_namespace,
        repositories=list(config.ecr.repositories),
        kms_key_arn=key.arn,
        image_tag_mutability=config.ecr.image_tag_mutability,
        scan_on_push=config.ecr.scan_on_push,
        untagged_image_expiration_days=config.ecr.untagged_image_expiration_days,
        tags=tags,
        retain_on_delete=config.ecr.retain_on_delete,
    ),
)

pulumi.export("accountId", env.account_id)
pulumi.export("region", env.region)
pulumi.export("partition", env.partition)
pulumi.export("bucketName", bucket.bucket_name)
pulumi.export("bucketArn", bucket.arn)
pulumi.export("kmsKeyArn", key.arn)
pulumi.export("kmsKeyAlias", key.alias_name)
pulumi.export("ecrRepositoryNames", repositories.names)
pulumi.export("ecrRepositoryArns", repositories.arns)
pulumi.export("ecrRepositoryUrls", repositories.urls)
