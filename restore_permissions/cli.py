"""``restore-permissions``: print, explain and export the policies without CDK.

    restore-permissions policy --bucket my-backups [--account 111122223333] ...
    restore-permissions vmimport-role --bucket my-backups --account 111122223333
    restore-permissions explain [--format table|markdown|json] [--workflows]

This module imports only the pure-Python catalogue: it never loads aws-cdk-lib
or starts jsii, so it answers at once. Bad arguments print one line to stderr
and exit with code 2.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from .bucket_names import bucket_name_problem
from .policy import (
    MANAGED_POLICY_LIMIT,
    PolicyOptions,
    PolicyProfile,
    PolicyTargets,
    catalogue_rows,
    iam_size,
    identity_policy,
    plan_documents,
    policy_document,
    vm_import_role_policy,
    vm_import_trust_policy,
)
from .policy.explain import render_rows, render_workflows
from .policy.statements import known_regions

PROG = "restore-permissions"
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
#: Without --account, scoped ARNs name the caller's own account.
ACCOUNT_VARIABLE = "${aws:PrincipalAccount}"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message}\n")


def _bucket(value: str) -> str:
    problem = bucket_name_problem(value)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{value!r} is not a valid S3 bucket name: {problem}")
    return value


def _account(value: str) -> str:
    if not re.fullmatch(r"\d{12}", value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a 12-digit AWS account id")
    return value


def _tag(value: str) -> tuple[str, str]:
    key, sep, tag_value = value.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{value!r} is not KEY=VALUE")
    return key, tag_value


def _kms_key(value: str) -> str:
    if not re.fullmatch(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+", value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a KMS key ARN")
    return value


def _parser() -> _Parser:
    parser = _Parser(prog=PROG, description=__doc__.split("\n\n")[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add_target(sub: argparse.ArgumentParser, *, bucket_required: bool) -> None:
        sub.add_argument(
            "--bucket",
            type=_bucket,
            action="append",
            required=bucket_required,
            help="backup bucket name (repeat for several)",
        )
        sub.add_argument(
            "--account",
            type=_account,
            help=f"account id for scoped ARNs (default: the policy variable {ACCOUNT_VARIABLE})",
        )
        sub.add_argument("--partition", choices=PARTITIONS, default="aws", help="default: aws")
        sub.add_argument(
            "--kms-key", type=_kms_key, help="ARN of the KMS key that encrypts the backups"
        )

    def add_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--profile",
            choices=[p.value for p in PolicyProfile],
            default=PolicyProfile.LEAST_PRIVILEGE.value,
            help="default: least-privilege",
        )
        sub.add_argument(
            "--region",
            action="append",
            default=[],
            metavar="R",
            help="allow EC2 calls in this Region only (repeat for several)",
        )
        sub.add_argument(
            "--instance-tag",
            type=_tag,
            metavar="KEY=VALUE",
            help="launches must carry this tag; only tagged instances may be controlled",
        )
        sub.add_argument(
            "--federation",
            action="store_true",
            help="grant sts:GetFederationToken (MSP360 Managed Backup Service)",
        )
        sub.add_argument(
            "--email-notifications",
            action="store_true",
            help="grant ses:SendEmail and ses:SendRawEmail",
        )

    policy = commands.add_parser("policy", help="print the identity policy JSON")
    add_target(policy, bucket_required=True)
    add_options(policy)

    role = commands.add_parser("vmimport-role", help="print the vmimport trust and role policies")
    add_target(role, bucket_required=True)
    # The trust policy's aws:SourceAccount must be the account itself: when
    # vmie.amazonaws.com assumes the role, the principal is a service, and IAM
    # does not promise ${aws:PrincipalAccount} for it.
    role.add_argument(
        "--existing",
        action="store_true",
        help="only the bucket policy, for an account that already has the role",
    )

    explain = commands.add_parser("explain", help="print what is granted, where and why")
    add_options(explain)
    explain.add_argument("--kms", action="store_true", help="include the KMS key statement")
    explain.add_argument(
        "--workflows",
        action="store_true",
        help="print each restore workflow's calls and the statement that allows each",
    )
    explain.add_argument(
        "--format", choices=("table", "markdown", "json"), default="table", help="default: table"
    )
    return parser


def _options(args: argparse.Namespace) -> PolicyOptions:
    return PolicyOptions(
        profile=PolicyProfile(args.profile),
        allowed_regions=tuple(args.region),
        instance_tag=args.instance_tag,
        federation=args.federation,
        email_notifications=args.email_notifications,
    )


def _arns(args: argparse.Namespace, regions: Sequence[str] = ()) -> PolicyTargets:
    return PolicyTargets.for_buckets(
        args.bucket,
        partition=args.partition,
        account=args.account or ACCOUNT_VARIABLE,
        kms_key_arns=[args.kms_key] if args.kms_key else [],
        regions=regions,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        options = _options(args) if args.command in ("policy", "explain") else None
        _check_partition(args)
    except ValueError as error:
        parser.error(str(error))
    if args.command == "policy":
        assert options is not None
        _print_json(_fitted(identity_policy(options, _arns(args, options.allowed_regions))))
    elif args.command == "vmimport-role":
        if args.account is None and not args.existing:
            parser.error(
                "vmimport-role needs --account: the trust policy's aws:SourceAccount must name "
                "the account, because IAM does not promise ${aws:PrincipalAccount} when "
                "vmie.amazonaws.com assumes the role (with --existing no trust policy is printed)"
            )
        arns = _arns(args)
        result: dict[str, Any] = {}
        if not args.existing:
            result["RoleName"] = "vmimport"
            result["AssumeRolePolicyDocument"] = vm_import_trust_policy(
                arns.partition, arns.account
            )
        fitted = _fitted(vm_import_role_policy(arns, existing_role=args.existing))
        result["PolicyDocuments" if isinstance(fitted, list) else "PolicyDocument"] = fitted
        _print_json(result)
    elif args.workflows:
        assert options is not None
        print(render_workflows(options, kms=args.kms, output_format=args.format), end="")
    else:
        assert options is not None
        rows = catalogue_rows(options, kms=args.kms)
        print(render_rows(rows, args.format), end="")
    return 0


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2))


def _fitted(document: dict[str, Any]) -> dict[str, Any] | list[dict[str, Any]]:
    """The document; or, past IAM's quota, a list of documents that each fit one policy."""
    if iam_size(document) <= MANAGED_POLICY_LIMIT:
        return document
    documents = [
        policy_document(statements) for statements in plan_documents(document["Statement"])
    ]
    if len(documents) > MAX_POLICIES_PER_IDENTITY:
        print(
            f"{PROG}: error: {len(documents)} managed policies would be needed; IAM allows "
            f"{MAX_POLICIES_PER_IDENTITY} per user, group or role at most: split the buckets "
            "over several identities (one per customer)",
            file=sys.stderr,
        )
        raise SystemExit(2)
    print(
        f"{PROG}: {iam_size(document)} characters do not fit one managed policy "
        f"({MANAGED_POLICY_LIMIT}); printing {len(documents)} documents, one policy each",
        file=sys.stderr,
    )
    return documents


#: IAM's highest quota of managed policies per user, group or role.
MAX_POLICIES_PER_IDENTITY = 20


def _region_partition(region: str) -> str:
    return known_regions().get(region, "aws")


def _check_partition(args: argparse.Namespace) -> None:
    """--partition, the Regions and the KMS key ARN must name one partition."""
    partition = getattr(args, "partition", None)
    if partition is None:
        return
    for region in getattr(args, "region", None) or []:
        if _region_partition(region) != partition:
            raise ValueError(
                f"--region {region} is in partition {_region_partition(region)}, not "
                f"--partition {partition}"
            )
    kms_key = getattr(args, "kms_key", None)
    if kms_key and kms_key.split(":")[1] != partition:
        raise ValueError(
            f"--kms-key {kms_key} is in partition {kms_key.split(':')[1]}, not --partition {partition}"
        )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
