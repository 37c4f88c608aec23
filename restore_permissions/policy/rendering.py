"""Statement specs rendered into IAM policy documents, with ARNs and conditions filled in."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .catalogue import (
    EC2_ACCOUNT_SCOPES,
    REASONS,
    VM_IMPORT_ROLE_REASONS,
    Guard,
    Reason,
    ResourceType,
)
from .statements import (
    PolicyOptions,
    StatementSpec,
    create_actions,
    identity_statements,
    vm_import_role_statements,
)

#: The DNS suffix of AWS endpoints per partition, for ``kms:ViaService`` values.
URL_SUFFIXES = {"aws-cn": "amazonaws.com.cn"}
DEFAULT_URL_SUFFIX = "amazonaws.com"


def reason_for(action: str, *, for_vm_import_role: bool = False) -> Reason:
    """The reason an action is granted (to the vmimport role with ``for_vm_import_role``)."""
    return (VM_IMPORT_ROLE_REASONS if for_vm_import_role else REASONS)[action]


@dataclass(frozen=True)
class PolicyTargets:
    """Where the ARNs of a rendered policy point. Values may be CDK token strings."""

    partition: str
    account: str
    bucket_arns: Sequence[str]
    object_arns: Sequence[str]
    kms_key_arns: Sequence[str] = ()
    #: The allowed Regions; see :attr:`ec2_region`.
    regions: Sequence[str] = ()
    #: The DNS suffix of the partition's endpoints (``AWS::URLSuffix``), for
    #: the ``kms:ViaService`` conditions.
    url_suffix: str = DEFAULT_URL_SUFFIX
    #: The customer managed key of EBS encryption by default, when it is not a bucket's key.
    ebs_kms_key_arns: Sequence[str] = ()

    @classmethod
    def for_buckets(
        cls,
        bucket_names: Iterable[str],
        *,
        partition: str = "aws",
        account: str = "${aws:PrincipalAccount}",
        kms_key_arns: Sequence[str] = (),
        regions: Sequence[str] = (),
        ebs_kms_key_arns: Sequence[str] = (),
    ) -> PolicyTargets:
        """ARNs for literal bucket names (the command line's case)."""
        names = list(bucket_names)
        return cls(
            partition=partition,
            account=account,
            bucket_arns=[bucket_arn(partition, name) for name in names],
            object_arns=[f"{bucket_arn(partition, name)}/*" for name in names],
            kms_key_arns=kms_key_arns,
            regions=regions,
            url_suffix=URL_SUFFIXES.get(partition, DEFAULT_URL_SUFFIX),
            ebs_kms_key_arns=ebs_kms_key_arns,
        )

    def resources(self, resource_type: ResourceType) -> list[str]:
        if resource_type is ResourceType.ANY:
            return ["*"]
        if resource_type is ResourceType.BUCKET:
            return list(self.bucket_arns)
        if resource_type is ResourceType.OBJECTS:
            return list(self.object_arns)
        if resource_type is ResourceType.KMS_KEY:
            return list(self.kms_key_arns)
        if resource_type is ResourceType.EBS_KMS_KEY:
            return list(self.ebs_kms_key_arns)
        if resource_type is ResourceType.SPOT_SERVICE_LINKED_ROLE:
            return [spot_service_linked_role_arn(self.partition, self.account)]
        if resource_type is ResourceType.FEDERATED_USER:
            return [f"arn:{self.partition}:sts::{self.account}:federated-user/*"]
        if resource_type is ResourceType.EMAIL_IDENTITY:
            # SES may be used in another Region than EC2.
            return [f"arn:{self.partition}:ses:*:{self.account}:identity/*"]
        account = self.account if resource_type in EC2_ACCOUNT_SCOPES else ""
        return [f"arn:{self.partition}:ec2:{self.ec2_region}:{account}:{resource_type.value}/*"]

    @property
    def ec2_region(self) -> str:
        """The Region part of scoped EC2 ARNs.

        One allowed Region goes into the ARNs. With several, the ARNs say ``*``
        and the statements' ``aws:RequestedRegion`` condition restricts them: an
        EC2 call only touches resources in the Region it is sent to, so the
        condition alone is as tight, and one ARN per Region would multiply the
        policy past IAM's 6,144-character quota.
        """
        return self.regions[0] if len(self.regions) == 1 else "*"


#: The service that the Spot service-linked role is for (``iam:AWSServiceName``).
SPOT_SERVICE_NAME = "spot.amazonaws.com"


def spot_service_linked_role_arn(partition: str, account: str) -> str:
    """The ARN of ``AWSServiceRoleForEC2Spot`` (EC2 user guide, Spot service-linked role)."""
    return (
        f"arn:{partition}:iam::{account}:role/aws-service-role/{SPOT_SERVICE_NAME}/"
        "AWSServiceRoleForEC2Spot"
    )


def shared_subnet_arns(options: PolicyOptions, arns: PolicyTargets) -> list[str]:
    """The subnets of the accounts that share theirs with this one (a shared VPC).

    A subnet's ARN carries the account that owns it, which for a shared subnet
    is the VPC owner's, not the launching account's (VPC user guide, "Share
    your VPC with other accounts"); the participant still owns the instance,
    its volumes and network interfaces.
    """
    return [
        f"arn:{arns.partition}:ec2:{arns.ec2_region}:{owner}:{ResourceType.SUBNET.value}/*"
        for owner in options.shared_subnet_owners
    ]


def bucket_arn(partition: str, bucket_name: str) -> str:
    return f"arn:{partition}:s3:::{bucket_name}"


def render_statements(
    specs: Iterable[StatementSpec],
    arns: PolicyTargets,
    options: PolicyOptions | None = None,
    *,
    for_vm_import_role: bool = False,
) -> list[dict[str, Any]]:
    """IAM statements (JSON-ready dicts) for ``specs`` with ``arns`` filled in.

    Actions and resources keep a stable order so that documents diff cleanly.
    """
    options = options or PolicyOptions()
    statements: list[dict[str, Any]] = []
    for spec in specs:
        # Sorted as CDK sorts them, so that a rendered document equals the template's.
        resources = sorted(
            {r for resource_type in spec.resource_types for r in arns.resources(resource_type)}
            | (
                set(shared_subnet_arns(options, arns))
                if ResourceType.SUBNET in spec.resource_types
                else set()
            )
        )
        if not resources:
            raise ValueError(f"statement {spec.sid} has no resources")
        for action in spec.actions:
            reason_for(action, for_vm_import_role=for_vm_import_role)  # every action has a reason
        statement: dict[str, Any] = {
            "Sid": spec.sid,
            "Effect": "Allow",
            "Action": sorted(spec.actions) if len(spec.actions) > 1 else spec.actions[0],
            "Resource": resources if len(resources) > 1 else resources[0],
        }
        condition = condition_of(spec, options, arns)
        if condition:
            statement["Condition"] = condition
        statements.append(statement)
    return statements


def condition_of(
    spec: StatementSpec, options: PolicyOptions, arns: PolicyTargets
) -> dict[str, Any]:
    """The statement's Condition block (empty for none)."""
    condition: dict[str, dict[str, Any]] = {}

    def add(operator: str, key: str, value: Any) -> None:
        condition.setdefault(operator, {})[key] = value

    if spec.is_ec2 and options.allowed_regions:
        add("StringEquals", "aws:RequestedRegion", list(options.allowed_regions))
    for guard in spec.guards:
        if guard in (Guard.REQUEST_TAG, Guard.RESOURCE_TAG):
            assert options.instance_tag is not None, spec.sid
            key, value = options.instance_tag
            scope = "RequestTag" if guard is Guard.REQUEST_TAG else "ResourceTag"
            add("StringEquals", f"aws:{scope}/{key}", value)
        elif guard is Guard.CREATE_ACTION:
            # The condition's values are API names without the "ec2:" prefix.
            add(
                "StringEquals",
                "ec2:CreateAction",
                [action.removeprefix("ec2:") for action in create_actions(options)],
            )
        # kms:ViaService values name the service's endpoint: s3.REGION.SUFFIX.
        # The bucket's Region is not known, so S3 gets any Region; EBS gets the
        # one allowed Region, or any (the key itself lives in one Region).
        elif guard is Guard.VIA_S3:
            add("StringLike", "kms:ViaService", f"s3.*.{arns.url_suffix}")
        elif guard is Guard.VIA_EC2:
            add("StringLike", "kms:ViaService", f"ec2.{arns.ec2_region}.{arns.url_suffix}")
        elif guard is Guard.GRANT_FOR_AWS_RESOURCE:
            add("Bool", "kms:GrantIsForAWSResource", "true")
        elif guard is Guard.NO_INSTANCE_PROFILE:
            add("Null", "ec2:InstanceProfile", "true")
        elif guard is Guard.NAME_TAG_ONLY:
            # ForAllValues also holds for a request without tags; the Null
            # check makes the request name its tag keys.
            add("ForAllValues:StringEquals", "aws:TagKeys", ["Name"])
            add("Null", "aws:TagKeys", "false")
        elif guard is Guard.SPOT_SERVICE:
            add("StringEquals", "iam:AWSServiceName", SPOT_SERVICE_NAME)
    return condition


def policy_document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def identity_policy(options: PolicyOptions, arns: PolicyTargets) -> dict[str, Any]:
    """The restore identity's policy document."""
    specs = identity_statements(
        options, kms=bool(arns.kms_key_arns), ebs_key=bool(arns.ebs_kms_key_arns)
    )
    return policy_document(render_statements(specs, arns, options))


def vm_import_role_policy(arns: PolicyTargets, *, existing_role: bool = False) -> dict[str, Any]:
    """The vmimport role's policy document (bucket statements only for an existing role)."""
    specs = vm_import_role_statements(
        existing_role=existing_role,
        kms=bool(arns.kms_key_arns),
        ebs_key=bool(arns.ebs_kms_key_arns),
    )
    return policy_document(render_statements(specs, arns, for_vm_import_role=True))
