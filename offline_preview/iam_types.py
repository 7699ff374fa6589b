"""Which resource types bear IAM, and how `diff` reads each: the closed lists docs/iam-diff.md
prints.

The modelled types are read into entries whose statements and grants are compared by meaning
(`offline_preview.iam_plan`, `offline_preview.iam_entries`, `offline_preview.diff`). The types
in `UNMODELLED` grant access (or choose which role something runs as) in ways not modelled:
`diff` compares the inputs that bear it (None: all of them) as written, and an instance HEAD
adds or changes is widening ("not modelled: treated as widening"). A guard (a public access
block, an SCP) is one whose removal widens too, unless the plan keeps it in AWS on delete
(`retainOnDelete`). `NO_GRANT` lists the types reviewed to grant nothing (every type the
program's plans hold besides those). The lists fail closed: a type in none of them is compared
like an `UNMODELLED` one with all its inputs, and its report names the inputs that look like
grants (`grant_like`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

ROLE = "aws:iam/role:Role"
USER = "aws:iam/user:User"
GROUP = "aws:iam/group:Group"
POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
USER_ATTACHMENT = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
GROUP_ATTACHMENT = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
ACCESS_POLICY = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
KEY = "aws:kms/key:Key"
KEYS = (
    KEY,
    "aws:kms/replicaKey:ReplicaKey",
    "aws:kms/externalKey:ExternalKey",
    "aws:kms/replicaExternalKey:ReplicaExternalKey",
)
"""Keys whose `policy` input is their key policy."""
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
REPOSITORY = "aws:ecr/repository:Repository"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"

MODELLED = frozenset(
    {
        ROLE,
        USER,
        GROUP,
        POLICY,
        ROLE_POLICY,
        USER_POLICY,
        GROUP_POLICY,
        ATTACHMENT,
        USER_ATTACHMENT,
        GROUP_ATTACHMENT,
        POLICY_ATTACHMENT,
        ACCESS_ENTRY,
        ACCESS_POLICY,
        *KEYS,
        KEY_POLICY,
        *BUCKETS,
        BUCKET_POLICY,
        REPOSITORY_POLICY,
    }
)
"""Read by meaning: principals and their policies, key, bucket and repository policies, EKS
access entries and access policies (a bucket's `acl` and `grants` are `UNMODELLED`)."""


@dataclass(frozen=True)
class Unmodelled:
    inputs: tuple[str, ...] | None
    """The inputs that bear its IAM; None: every input. An instance that sets none is skipped."""
    guard: bool = False
    """Removing one widens: it guarded against grants made elsewhere."""
    reviewed: bool = True
    """False for a type no list names: compared with all its inputs, and said so."""


_ALL = Unmodelled(None)
_GUARD = Unmodelled(None, guard=True)
_UNREVIEWED = Unmodelled(None, reviewed=False)

UNMODELLED: dict[str, Unmodelled] = {
    # IAM: credentials, memberships, identity providers (and every other aws:iam/ type)
    "aws:iam/accessKey:AccessKey": _ALL,
    "aws:iam/userLoginProfile:UserLoginProfile": _ALL,
    "aws:iam/groupMembership:GroupMembership": _ALL,
    "aws:iam/userGroupMembership:UserGroupMembership": _ALL,
    "aws:iam/sshKey:SshKey": _ALL,
    "aws:iam/serviceSpecificCredential:ServiceSpecificCredential": _ALL,
    "aws:iam/signingCertificate:SigningCertificate": _ALL,
    "aws:iam/serviceLinkedRole:ServiceLinkedRole": _ALL,
    "aws:iam/samlProvider:SamlProvider": _ALL,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": Unmodelled(
        ("url", "clientIdLists", "thumbprintLists")
    ),
    "aws:iam/instanceProfile:InstanceProfile": Unmodelled(("name", "namePrefix", "path", "role")),
    "aws:iam/accountPasswordPolicy:AccountPasswordPolicy": _GUARD,
    # KMS and ECR
    "aws:kms/grant:Grant": _ALL,
    "aws:ecr/registryPolicy:RegistryPolicy": _ALL,
    "aws:ecrpublic/repositoryPolicy:RepositoryPolicy": _ALL,
    # S3: ACLs, access points, control-plane policies, and the guards against public access
    "aws:s3/bucket:Bucket": Unmodelled(("acl", "grants")),
    "aws:s3/bucketV2:BucketV2": Unmodelled(("acl", "grants")),
    "aws:s3/bucketAcl:BucketAcl": _ALL,
    "aws:s3/bucketAclV2:BucketAclV2": _ALL,
    "aws:s3/accessPoint:AccessPoint": _ALL,
    "aws:s3control/accessPointPolicy:AccessPointPolicy": _ALL,
    "aws:s3control/bucketPolicy:BucketPolicy": _ALL,
    "aws:s3control/multiRegionAccessPointPolicy:MultiRegionAccessPointPolicy": _ALL,
    "aws:s3control/objectLambdaAccessPointPolicy:ObjectLambdaAccessPointPolicy": _ALL,
    "aws:s3control/accessGrant:AccessGrant": _ALL,
    "aws:s3tables/tableBucketPolicy:TableBucketPolicy": _ALL,
    "aws:s3tables/tablePolicy:TablePolicy": _ALL,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _GUARD,
    "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock": _GUARD,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _GUARD,
    # EKS: who the cluster lets in besides access entries, and pod identities
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": _ALL,
    "aws:eks/identityProviderConfig:IdentityProviderConfig": _ALL,
    "aws:eks/cluster:Cluster": Unmodelled(("accessConfig", "accessConfigs")),
    "eks:index:Cluster": Unmodelled(
        (
            "accessEntries",
            "authenticationMode",
            "roleMappings",
            "userMappings",
            "instanceRole",
            "instanceRoles",
        )
    ),
    # SQS, SNS, Lambda, Secrets Manager
    "aws:sqs/queue:Queue": Unmodelled(("policy",)),
    "aws:sqs/queuePolicy:QueuePolicy": _ALL,
    "aws:sns/topic:Topic": Unmodelled(("policy",)),
    "aws:sns/topicPolicy:TopicPolicy": _ALL,
    "aws:lambda/permission:Permission": _ALL,
    "aws:lambda/layerVersionPermission:LayerVersionPermission": _ALL,
    "aws:lambda/functionUrl:FunctionUrl": _ALL,
    "aws:secretsmanager/secret:Secret": Unmodelled(("policy",)),
    "aws:secretsmanager/secretPolicy:SecretPolicy": _ALL,
    # other resource policies and sharing
    "aws:backup/vaultPolicy:VaultPolicy": _ALL,
    "aws:cloudwatch/eventBusPolicy:EventBusPolicy": _ALL,
    "aws:cloudwatch/eventPermission:EventPermission": _ALL,
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": _ALL,
    "aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy": _ALL,
    "aws:codeartifact/domainPermissions:DomainPermissions": _ALL,
    "aws:codeartifact/repositoryPermissionsPolicy:RepositoryPermissionsPolicy": _ALL,
    "aws:dynamodb/resourcePolicy:ResourcePolicy": _ALL,
    "aws:efs/fileSystemPolicy:FileSystemPolicy": _ALL,
    "aws:opensearch/domainPolicy:DomainPolicy": _ALL,
    "aws:elasticsearch/domainPolicy:DomainPolicy": _ALL,
    "aws:glue/resourcePolicy:ResourcePolicy": _ALL,
    "aws:kinesis/resourcePolicy:ResourcePolicy": _ALL,
    "aws:apigateway/restApiPolicy:RestApiPolicy": _ALL,
    "aws:ses/identityPolicy:IdentityPolicy": _ALL,
    "aws:ec2/amiLaunchPermission:AmiLaunchPermission": _ALL,
    "aws:ec2/snapshotCreateVolumePermission:SnapshotCreateVolumePermission": _ALL,
    "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy": _ALL,
    "aws:ram/resourceShare:ResourceShare": _ALL,
    "aws:ram/principalAssociation:PrincipalAssociation": _ALL,
    "aws:ram/resourceAssociation:ResourceAssociation": _ALL,
    "aws:cognito/identityPoolRoleAttachment:IdentityPoolRoleAttachment": _ALL,
    "aws:lakeformation/permissions:Permissions": _ALL,
    "aws:ssoadmin/accountAssignment:AccountAssignment": _ALL,
    "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy": _ALL,
    "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment": _ALL,
    "aws:ssoadmin/customerManagedPolicyAttachment:CustomerManagedPolicyAttachment": _ALL,
    "aws:ssoadmin/permissionsBoundaryAttachment:PermissionsBoundaryAttachment": _GUARD,
    "aws:organizations/policy:Policy": _GUARD,
    "aws:organizations/policyAttachment:PolicyAttachment": _GUARD,
    # which role a resource runs as (the roles' own grants are modelled)
    "aws:eks/addon:Addon": Unmodelled(("serviceAccountRoleArn", "podIdentityAssociations")),
    "aws:ec2/instance:Instance": Unmodelled(("iamInstanceProfile",)),
    "aws:ec2/launchTemplate:LaunchTemplate": Unmodelled(("iamInstanceProfile",)),
    "eks:index:ManagedNodeGroup": Unmodelled(("nodeRole", "nodeRoleArn")),
    "kubernetes:core/v1:ServiceAccount": Unmodelled(("metadata",)),
    # Kubernetes RBAC, and the aws-auth ConfigMap that maps IAM roles to Kubernetes groups
    "kubernetes:core/v1:ConfigMap": _ALL,
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole": _ALL,
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": _ALL,
    "kubernetes:rbac.authorization.k8s.io/v1:Role": _ALL,
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": _ALL,
}

NO_GRANT: dict[str, str] = {
    "aws:dynamodb/table:Table": "no resource policy input (`aws:dynamodb/resourcePolicy` is one)",
    "aws:ec2/securityGroup:SecurityGroup": "network access, not IAM",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "network access, not IAM",
    "aws:ecr/repository:Repository": "no policy input: its `aws:ecr/repositoryPolicy` is read",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "which images expire, no grant",
    "aws:kms/alias:Alias": "a name for a key, no grant",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "expiry, no grant",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "encryption at rest, no grant (the key's policy is read)"
    ),
    "aws:s3/bucketVersioning:BucketVersioning": "versioning, no grant",
    "aws:ssm/parameter:Parameter": "a value, no resource policy",
    "kubernetes:core/v1:Namespace": "a namespace, no binding",
    "pulumi:pulumi:Stack": "the stack itself",
    "pulumi:providers:kubernetes": "a provider: how the program deploys, no grant",
    "poolside:aws:Bastion": "a component: its children are read",
    "poolside:aws:Bucket": "a component: its children are read",
    "poolside:aws:ClusterAddons": "a component: its children are read",
    "poolside:aws:DeploymentParameters": "a component: its children are read",
    "poolside:aws:EcrRepositories": "a component: its children are read",
    "poolside:aws:EksCluster": "a component: its children are read",
    "poolside:aws:IamRole": "a component: its children are read",
    "poolside:aws:KmsKey": "a component: its children are read",
    "poolside:aws:NodeGroups": "a component: its children are read",
    "poolside:aws:OidcProvider": "a component: its children are read",
    "poolside:kubernetes:ServiceAccounts": "a component: its children are read",
}
"""The types reviewed to grant nothing, each with why: every type the program's plans hold
that neither `MODELLED` nor `UNMODELLED` names."""

_GRANT_LIKE = re.compile(r"polic|acl|grant|permission|principal|role", re.IGNORECASE)


def grant_like(inputs: Iterable[str]) -> list[str]:
    """The input names that look like grants (a policy, an ACL, a grant, a permission, a
    principal, a role), sorted."""
    return sorted(name for name in inputs if _GRANT_LIKE.search(name))


def unmodelled(type_: str) -> Unmodelled | None:
    """How a type that is not modelled is compared; None for a modelled type and one reviewed
    to grant nothing (`NO_GRANT`). Any other type fails closed: every input compared."""
    found = UNMODELLED.get(type_)
    if found is not None:
        return found
    if type_ in MODELLED or type_ in NO_GRANT:
        return None
    return _ALL if type_.startswith("aws:iam/") else _UNREVIEWED
