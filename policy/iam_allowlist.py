"""The pack's allowlists, each entry with its reason: `Resource: "*"` on actions that do take
resource ARNs, resource patterns with a wildcard account, and AWS-managed policies by role purpose.

An action whose only resource is `*` (no resource-level permissions) needs no `STAR_ALLOWLIST`
entry: the pack's rule and the tests' lint know it from the IAM database (`iam_actions.py`).
Everything here is a deliberate exception a reviewer can read; the pack enforces it at
`pulumi preview` and `pulumi up`, the tests' lint (`STAR_ALLOWLIST`) on every document the
program renders, and the tests fail on an entry the example stacks do not use.
"""

from __future__ import annotations

from dataclasses import dataclass

_LBC = "AWS Load Balancer Controller v3.5.0 published policy, carried verbatim"
_LBC_DISCOVERY = f"{_LBC}: discovery of resources the controller does not name in advance"
_LBC_TAGGED = (
    f"{_LBC}: conditioned only on the presence (`Null: false`) of the `elbv2.k8s.aws/cluster` "
    "request or resource tag, with any cluster's value, which IAM evaluates instead of an ARN"
)
_LBC_UNCONDITIONED = (
    f"{_LBC}: granted on `*` with no condition (its first security-group statement, for the "
    "rules the controller adds to groups it does not own); a second, tag-conditioned statement "
    "grants it again"
)
_LBC_INGRESS = f"{_LBC}: attaches WAF, Shield, ACM and Cognito settings users name in Ingresses"
_LBC_LISTENERS = (
    f"{_LBC}: granted on `*` with no condition, so on the listeners and rules of every load "
    "balancer of the account in every region, not only the controller's own"
)

STAR_ALLOWLIST: dict[str, str] = {
    # -- Bastion: Cognito Management Policy ------------------------------------------------------
    "cognito-idp:TagResource": (
        "creating a user pool with tags authorises TagResource before the pool has an ARN; only "
        "with the deployment tag in the request, and an explicit Deny keeps every pool that does "
        "not carry the deployment tag out of reach"
    ),
    # -- AWS Load Balancer Controller (vendor policy) ------------------------------------------
    "iam:CreateServiceLinkedRole": f"{_LBC}: conditioned on iam:AWSServiceName = ELB",
    "ec2:GetCoipPoolUsage": _LBC_DISCOVERY,
    "ec2:GetSecurityGroupsForVpc": _LBC_DISCOVERY,
    "cognito-idp:DescribeUserPoolClient": _LBC_INGRESS,
    "acm:DescribeCertificate": _LBC_INGRESS,
    "iam:GetServerCertificate": _LBC_INGRESS,
    "waf-regional:GetWebACL": _LBC_INGRESS,
    "waf-regional:GetWebACLForResource": _LBC_INGRESS,
    "waf-regional:AssociateWebACL": _LBC_INGRESS,
    "waf-regional:DisassociateWebACL": _LBC_INGRESS,
    "wafv2:GetWebACL": _LBC_INGRESS,
    "wafv2:GetWebACLForResource": _LBC_INGRESS,
    "wafv2:AssociateWebACL": _LBC_INGRESS,
    "wafv2:DisassociateWebACL": _LBC_INGRESS,
    "shield:DescribeProtection": _LBC_INGRESS,
    "shield:DeleteProtection": _LBC_INGRESS,
    "ec2:AuthorizeSecurityGroupIngress": _LBC_UNCONDITIONED,
    "ec2:RevokeSecurityGroupIngress": _LBC_UNCONDITIONED,
    "ec2:CreateSecurityGroup": f"{_LBC}: a new group has no ARN before it exists",
    "ec2:DeleteSecurityGroup": _LBC_TAGGED,
    "elasticloadbalancing:CreateLoadBalancer": _LBC_TAGGED,
    "elasticloadbalancing:CreateTargetGroup": _LBC_TAGGED,
    "elasticloadbalancing:CreateListener": _LBC_LISTENERS,
    "elasticloadbalancing:DeleteListener": _LBC_LISTENERS,
    "elasticloadbalancing:CreateRule": _LBC_LISTENERS,
    "elasticloadbalancing:DeleteRule": _LBC_LISTENERS,
    "elasticloadbalancing:ModifyLoadBalancerAttributes": _LBC_TAGGED,
    "elasticloadbalancing:SetIpAddressType": _LBC_TAGGED,
    "elasticloadbalancing:SetSecurityGroups": _LBC_TAGGED,
    "elasticloadbalancing:SetSubnets": _LBC_TAGGED,
    "elasticloadbalancing:DeleteLoadBalancer": _LBC_TAGGED,
    "elasticloadbalancing:ModifyTargetGroup": _LBC_TAGGED,
    "elasticloadbalancing:ModifyTargetGroupAttributes": _LBC_TAGGED,
    "elasticloadbalancing:DeleteTargetGroup": _LBC_TAGGED,
    "elasticloadbalancing:ModifyListenerAttributes": _LBC_TAGGED,
    "elasticloadbalancing:ModifyCapacityReservation": _LBC_TAGGED,
    "elasticloadbalancing:ModifyIpPools": _LBC_TAGGED,
    "elasticloadbalancing:ModifyListener": _LBC_LISTENERS,
    "elasticloadbalancing:AddListenerCertificates": _LBC_LISTENERS,
    "elasticloadbalancing:RemoveListenerCertificates": _LBC_LISTENERS,
    "elasticloadbalancing:ModifyRule": _LBC_LISTENERS,
    "elasticloadbalancing:SetRulePriorities": _LBC_LISTENERS,
}


# -- A `*` (or `?`) in an ARN's account field ----------------------------------------------------
# `iam-star-resource-scoped` refuses an ARN pattern whose account field has a wildcard unless the
# resource pattern, written without its `arn:<partition>:` (any partition), is listed here with
# the actions it may go with. (A pattern that names no resource type at all, `arn:*` or
# `arn:<partition>:kms:<region>:<account>:*`, is as good as `*` and needs `STAR_ALLOWLIST` instead.)


@dataclass(frozen=True)
class AnyAccount:
    """Actions that may take a resource pattern with a wildcard account, and why."""

    actions: tuple[str, ...]
    reason: str


_LBC_NO_RESOURCE_POLICY = (
    "EC2 and Elastic Load Balancing take no resource-based policies, so an identity policy reaches "
    "only its own account's resources whatever the account field says"
)
_LBC_TAGS = (
    f"{_LBC}: region and account `*`; {_LBC_NO_RESOURCE_POLICY}; each statement is conditioned on "
    "the `elbv2.k8s.aws/cluster` tag, except the listeners' and listener rules' tags"
)
_LBC_TAG_ACTIONS = ("elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags")

ANY_ACCOUNT_ALLOWLIST: dict[str, AnyAccount] = {
    # -- AWS Load Balancer Controller (vendor policy) ------------------------------------------
    "ec2:*:*:security-group/*": AnyAccount(("ec2:CreateTags", "ec2:DeleteTags"), _LBC_TAGS),
    "elasticloadbalancing:*:*:targetgroup/*/*": AnyAccount(
        (
            *_LBC_TAG_ACTIONS,
            "elasticloadbalancing:RegisterTargets",
            "elasticloadbalancing:DeregisterTargets",
        ),
        f"{_LBC_TAGS}; (de)registering targets is granted with no condition, on every target "
        "group of the account",
    ),
    "elasticloadbalancing:*:*:loadbalancer/net/*/*": AnyAccount(_LBC_TAG_ACTIONS, _LBC_TAGS),
    "elasticloadbalancing:*:*:loadbalancer/app/*/*": AnyAccount(_LBC_TAG_ACTIONS, _LBC_TAGS),
    "elasticloadbalancing:*:*:listener/net/*/*/*": AnyAccount(_LBC_TAG_ACTIONS, _LBC_TAGS),
    "elasticloadbalancing:*:*:listener/app/*/*/*": AnyAccount(_LBC_TAG_ACTIONS, _LBC_TAGS),
    "elasticloadbalancing:*:*:listener-rule/net/*/*/*": AnyAccount(_LBC_TAG_ACTIONS, _LBC_TAGS),
    "elasticloadbalancing:*:*:listener-rule/app/*/*/*": AnyAccount(_LBC_TAG_ACTIONS, _LBC_TAGS),
}


# -- Principals of another account in a role's trust ---------------------------------------------
# `iam-trust-own-account` admits a principal of type AWS (an account, a root, a role, a user) or
# a Federated provider ARN of another account than the stack's only when it is listed here,
# written without its `arn:<partition>:` (any partition; a bare account ID as it is), with the
# reason. The example stacks trust none.

FOREIGN_PRINCIPALS: dict[str, str] = {}


# -- AWS-managed policies ------------------------------------------------------------------------
# `iam-aws-managed-policies` lets a role hold an AWS-managed policy (`arn:<any partition>:iam::aws:
# policy/<path><name>`) only when it is listed here, and only on a role whose trust admits nothing
# but the principals the entry names: the role's purpose. A service principal is written without
# its DNS suffix (`ec2` is `ec2.amazonaws.com`, and `ec2.amazonaws.com.cn` in China); an IRSA
# service account as `<namespace>:<name>`, the value the trust's `:sub` StringEquals names after
# `system:serviceaccount:`. Users and groups hold none.


@dataclass(frozen=True)
class ManagedPolicyUse:
    """Who the roles holding an AWS-managed policy may be assumed by, and why they need it."""

    services: tuple[str, ...] = ()
    service_accounts: tuple[str, ...] = ()
    reason: str = ""


AWS_MANAGED_POLICIES: dict[str, ManagedPolicyUse] = {
    "AmazonEKSClusterPolicy": ManagedPolicyUse(
        services=("eks",),
        reason="the EKS cluster role: what EKS needs to manage the cluster's AWS resources "
        "(AWS's required cluster role policy)",
    ),
    "AmazonEKSWorkerNodePolicy": ManagedPolicyUse(
        services=("ec2",),
        reason="the EKS node role: nodes describe the cluster and their instances to join it",
    ),
    "AmazonEC2ContainerRegistryReadOnly": ManagedPolicyUse(
        services=("ec2",),
        reason="the EKS node role: nodes pull images (read-only ECR on every repository of the "
        "account)",
    ),
    "AmazonEKS_CNI_Policy": ManagedPolicyUse(
        service_accounts=("kube-system:aws-node",),
        reason="the VPC CNI's IRSA role: it gives pods network interfaces and addresses (EC2 "
        "network-interface writes on `*`); not on the node role, as AWS recommends",
    ),
    "service-role/AmazonEBSCSIDriverPolicy": ManagedPolicyUse(
        service_accounts=("kube-system:ebs-csi-controller-sa",),
        reason="the EBS CSI controller's IRSA role: it creates, attaches, snapshots and deletes "
        "the volumes of persistent volume claims",
    ),
}
