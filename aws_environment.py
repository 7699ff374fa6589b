"""The stack's partition, region and account, looked up once, and every ARN built from them.

No program code writes a literal ARN partition: commercial (`aws`), GovCloud (`aws-us-gov`) and
China (`aws-cn`) stacks run the same code. Service principals are looked up per partition, never
derived from the DNS suffix, because China is inconsistent about them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi_aws as aws

PARTITIONS = ("aws", "aws-us-gov", "aws-cn")

DNS_SUFFIXES = {"aws": "amazonaws.com", "aws-us-gov": "amazonaws.com", "aws-cn": "amazonaws.com.cn"}


# Service principals per service and partition: looked up, never derived from the DNS suffix,
# because China is inconsistent.
# - ec2: `ec2.amazonaws.com.cn` in aws-cn. IAM refuses `ec2.amazonaws.com` there as an invalid
#   principal (kubernetes/kops#27, awsdocs/aws-step-functions-developer-guide#37) and EKS asks for
#   the `.cn` one in a node role's trust (awslabs/cdk-eks-blueprints#558); GovCloud uses the
#   commercial principal (aws/aws-cdk#22589).
# - eks: `eks.amazonaws.com` in every partition; a `.cn` EKS principal is refused.
# - bedrock: `bedrock.amazonaws.com` (Amazon Bedrock User Guide, "Create a service role for model
#   customization"); no source gives GovCloud another one. No AWS China page documents Bedrock
#   model customization: check AWS China's documentation before enabling Bedrock in aws-cn.
SERVICE_PRINCIPALS: dict[str, dict[str, str]] = {
    "ec2": {
        "aws": "ec2.amazonaws.com",
        "aws-us-gov": "ec2.amazonaws.com",
        "aws-cn": "ec2.amazonaws.com.cn",
    },
    "eks": {
        "aws": "eks.amazonaws.com",
        "aws-us-gov": "eks.amazonaws.com",
        "aws-cn": "eks.amazonaws.com",
    },
    "bedrock": {
        "aws": "bedrock.amazonaws.com",
        "aws-us-gov": "bedrock.amazonaws.com",
        "aws-cn": "bedrock.amazonaws.com",
    },
}


def service_principal(service: str, partition: str) -> str:
    """The service principal of `service` in `partition`; unknown ones are refused."""
    try:
        return SERVICE_PRINCIPALS[service][partition]
    except KeyError:
        raise ValueError(
            f"no service principal known for {service!r} in partition {partition!r}"
        ) from None


# Graviton (arm64) instance families: an `a1`, or a `g` among the letters after the generation
# (t4g, m7g, c7gn, r8g, x2gd, im4gn, g5g). The bastion's default AMI and its tools are x86_64.
_ARM64_INSTANCE_TYPE = re.compile(r"^(a1|[a-z]+\d+[a-z]*g[a-z]*)\.")


def is_arm64_instance_type(instance_type: str) -> bool:
    """Whether an EC2 instance type is a Graviton (arm64) one."""
    return _ARM64_INSTANCE_TYPE.match(instance_type) is not None


def partition_of_region(region: str) -> str:
    """The partition a region belongs to (`us-gov-*` GovCloud, `cn-*` China, else commercial)."""
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws"


@dataclass(frozen=True)
class AwsEnvironment:
    """Where the stack deploys: plain values, known before any resource is registered."""

    partition: str
    region: str
    account_id: str
    dns_suffix: str

    @classmethod
    def lookup(cls) -> AwsEnvironment:
        """One call each to getPartition, getRegion and getCallerIdentity for the whole program."""
        partition = aws.get_partition()
        region = aws.get_region()
        identity = aws.get_caller_identity()
        return cls(
            partition=partition.partition,
            region=region.region,
            account_id=identity.account_id,
            dns_suffix=partition.dns_suffix,
        )

    def arn(self, service: str, resource: str, *, region: str = "", account: str = "") -> str:
        """`arn:<partition>:<service>:<region>:<account>:<resource>`; empty parts stay empty."""
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource}"

    def regional_arn(self, service: str, resource: str) -> str:
        """An ARN in this stack's region and account."""
        return self.arn(service, resource, region=self.region, account=self.account_id)

    def global_arn(self, service: str, resource: str) -> str:
        """An ARN of a global service (IAM) in this account: no region part."""
        return self.arn(service, resource, account=self.account_id)

    def service_principal(self, service: str) -> str:
        """The principal of an AWS service in this stack's partition (`SERVICE_PRINCIPALS`)."""
        return service_principal(service, self.partition)

    def aws_managed_policy_arn(self, policy_name: str, *, path: str = "/") -> str:
        """An AWS-managed policy: `arn:<partition>:iam::aws:policy<path><name>`.

        Most sit at the root path (`policy/AmazonEKS_CNI_Policy`); service-role policies under
        `/service-role/` (`policy/service-role/AmazonEBSCSIDriverPolicy`)."""
        if not (path.startswith("/") and path.endswith("/")):
            raise ValueError(f"an IAM path starts and ends with '/' (got {path!r})")
        return self.arn("iam", f"policy{path}{policy_name}", account="aws")

    @property
    def account_root_arn(self) -> str:
        return self.global_arn("iam", "root")
