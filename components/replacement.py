"""How a resource with a fixed physical name is replaced on day 2.

Pulumi replaces a resource by creating the new one before deleting the old. For a resource whose
name is fixed (a role, a policy, a parameter), the new one collides with the old name and
`pulumi up` fails with "already exists" halfway through an update. Every type the program names
gets one of three answers, recorded in the plan's resource options (`deleteBeforeReplace`,
`protect`) and tested for every type in `REPLACEMENT`:

* `DELETE_FIRST`: the old one goes before the new one comes (IAM roles, policies, attachments
  and the instance profile, the OIDC provider, parameters, add-ons, access entries, the key
  alias, Kubernetes objects). A role is deleted with its policies detached first
  (`force_detach_policies`); an attachment is detached before it is attached again, or the
  delete of the old one would detach the policy the new one just attached.
* `RENAMED`: the physical name changes with the replacement, so both can exist at once (the
  bastion's security group: an instance keeps using the old one until it moves to the new, so it
  could not be deleted first); `AUTO_NAMED` resources never had a fixed name (launch templates).
* `PROTECTED`: data (the key, the bucket, the repositories, the state-lock table), while it is
  retained on delete. Pulumi refuses to replace a protected resource and says which one, at
  `pulumi preview`, before anything changes; a replacement would lose the data, or collide with
  the name the retained one keeps. `pulumi destroy` stops on them too: run it with
  `--exclude-protected` to remove the rest and keep the data (as `retainOnDelete` always has).
* `FOLLOWS_PARENT`: keyed by the bucket, repository or security groups they configure; only a
  new parent (a new name) replaces them, and then the old one's delete touches the old parent.
  `UNNAMED`: no physical name to collide (the bastion's instance: a new one, then the old gone).
* `MIGRATION`: the EKS cluster. What would replace it (its name, its VPC) makes a new platform;
  that is a migration to plan, not an update, and the cluster's own options are pulumi-eks's.

Managed node groups (`eks:index:ManagedNodeGroup`, a pulumi-eks component whose options do not
reach the node group inside it) are replaced by renaming the group in config: the new group is
created, then the old one drained and deleted (`docs/upgrading.md`).
"""

from __future__ import annotations

from typing import Final

import pulumi

DELETE_FIRST: Final = "delete-first"
RENAMED: Final = "renamed"
AUTO_NAMED: Final = "auto-named"
PROTECTED: Final = "protected"
RENAME_IN_CONFIG: Final = "rename-in-config"
FOLLOWS_PARENT: Final = "follows-parent"
UNNAMED: Final = "unnamed"
MIGRATION: Final = "migration"

# Type token -> how a replacement of that type proceeds.
REPLACEMENT: dict[str, str] = {
    "aws:iam/role:Role": DELETE_FIRST,
    "aws:iam/policy:Policy": DELETE_FIRST,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": DELETE_FIRST,
    "aws:iam/instanceProfile:InstanceProfile": DELETE_FIRST,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": DELETE_FIRST,
    "aws:ssm/parameter:Parameter": DELETE_FIRST,
    "aws:eks/addon:Addon": DELETE_FIRST,
    "aws:eks/accessEntry:AccessEntry": DELETE_FIRST,
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": DELETE_FIRST,
    "aws:kms/alias:Alias": DELETE_FIRST,
    "aws:ec2/securityGroup:SecurityGroup": RENAMED,
    "aws:ec2/launchTemplate:LaunchTemplate": AUTO_NAMED,
    "aws:ec2/instance:Instance": UNNAMED,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": FOLLOWS_PARENT,
    "eks:index:Cluster": MIGRATION,
    "aws:kms/key:Key": PROTECTED,
    "aws:s3/bucket:Bucket": PROTECTED,
    "aws:ecr/repository:Repository": PROTECTED,
    "aws:dynamodb/table:Table": PROTECTED,
    "pulumi:providers:kubernetes": UNNAMED,  # a provider: nothing in AWS or the cluster
    "kubernetes:core/v1:Namespace": DELETE_FIRST,
    "kubernetes:core/v1:ServiceAccount": DELETE_FIRST,
    "eks:index:ManagedNodeGroup": RENAME_IN_CONFIG,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": FOLLOWS_PARENT,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": FOLLOWS_PARENT,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        FOLLOWS_PARENT
    ),
    "aws:s3/bucketVersioning:BucketVersioning": FOLLOWS_PARENT,
    "aws:s3/bucketPolicy:BucketPolicy": FOLLOWS_PARENT,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": FOLLOWS_PARENT,
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": FOLLOWS_PARENT,
}


def delete_first(
    parent: pulumi.Resource, *, depends_on: list[pulumi.Resource] | None = None
) -> pulumi.ResourceOptions:
    """Options of a fixed-name resource that is deleted before its replacement is created."""
    return pulumi.ResourceOptions(parent=parent, delete_before_replace=True, depends_on=depends_on)


def data(parent: pulumi.Resource, *, retain: bool) -> pulumi.ResourceOptions:
    """Options of data: retained on destroy and protected from replacement while `retain`."""
    return pulumi.ResourceOptions(parent=parent, retain_on_delete=retain, protect=retain)
