"""The one allowlist of `Resource: "*"` on actions that do take resource ARNs, with the reason.

An action whose only resource is `*` (no resource-level permissions) needs no entry: the pack's
rule and the tests' lint know it from the IAM database (`iam_actions.py`). Everything here is a
deliberate exception a reviewer can read; the pack enforces it at `pulumi preview` and
`pulumi up`, the tests' lint on every document the program renders.
"""

from __future__ import annotations

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
