"""restore-permissions: print, explain and check the restore policies, without CDK.

    restore-permissions policy --bucket my-backups [--account 111122223333] [--split] ...
    restore-permissions vmimport-role --bucket my-backups --account 111122223333
    restore-permissions explain [--bucket my-backups] [--format table|markdown|json]
        [--workflows | --blast-radius]
    restore-permissions check --stack RestorePermissions | --principal-arn ARN | --policy-file F
    restore-permissions diff OLD NEW | --stack RestorePermissions [--deployed] [NEW]

This module imports only the pure-Python catalogue: it never loads aws-cdk-lib
or starts jsii. Bad arguments print one line to stderr that names the flag, and
exit with code 2. A reader that stops early (``| head``) ends the output
quietly, with exit code 141, as a command killed by SIGPIPE would.

JSON output has one shape per command and flags, whatever its size: ``policy``
prints one policy document, and ``--split`` prints ``{"PolicyDocuments": [...]}``
with one document per managed policy. A policy too large for one managed
policy without ``--split`` is an error that says so.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import re
import shutil
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from .bucket_names import bucket_name_error
from .policy import (
    DEFAULT_MAX_MANAGED_POLICIES,
    MANAGED_POLICY_LIMIT,
    MAX_MANAGED_POLICIES,
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
from .policy.blast_radius import render_blast_radius
from .policy.explain import DEFAULT_WIDTH, render_rows, render_workflows
from .policy.statements import (
    kms_key_arn_problem,
    known_regions,
    region_problem,
    tag_key_problem,
    tag_value_problem,
)

PROG = "restore-permissions"
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
#: Without --account, scoped ARNs name the caller's own account.
ACCOUNT_VARIABLE = "${aws:PrincipalAccount}"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message}\n")


def _version() -> str:
    try:
        return importlib.metadata.version("restore-permissions")
    except importlib.metadata.PackageNotFoundError:  # a source tree that was never installed
        return "unknown (not installed)"


def _account(value: str) -> str:
    if not re.fullmatch(r"\d{12}", value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a 12-digit AWS account id")
    return value


def _region(value: str) -> str:
    """One Region (check simulates in one)."""
    if "," in value:
        raise argparse.ArgumentTypeError(
            f"{value!r} names several Regions; check simulates the calls in one Region: "
            "run it once per Region"
        )
    problem = region_problem(value)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{value!r} {problem}")
    return value


def _regions(value: str) -> list[str]:
    """One Region, or several separated by commas (as the example app's -c allowed_regions)."""
    regions = [region.strip() for region in value.split(",")]
    for region in regions:
        problem = region_problem(region)
        if problem is not None:
            several = f" (in {value!r})" if len(regions) > 1 else ""
            raise argparse.ArgumentTypeError(f"{region!r}{several} {problem}")
    return regions


def _tag(value: str) -> tuple[str, str]:
    key, sep, tag_value = value.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{value!r} is not KEY=VALUE")
    problem = tag_key_problem(key) or tag_value_problem(tag_value)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{value!r} is not a valid tag: {problem}")
    return key, tag_value


def _kms_key(value: str) -> str:
    problem = kms_key_arn_problem(value)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{value!r} {problem}")
    return value


def _add_target(
    sub: argparse.ArgumentParser,
    *,
    bucket_required: bool,
    account_help: str = f"account id for scoped ARNs (default: the policy variable {ACCOUNT_VARIABLE})",
) -> None:
    """The flags that say which bucket, key and account the ARNs name."""
    sub.add_argument(
        "--bucket",
        action="append",
        required=bucket_required,
        help="backup bucket name (repeat for several)",
    )
    sub.add_argument(
        "--legacy-bucket-name",
        action="store_true",
        help="accept legacy us-east-1 bucket names (uppercase letters, '_', up to 255 characters)",
    )
    sub.add_argument(
        "--account",
        type=_account,
        help=account_help,
    )
    sub.add_argument("--partition", choices=PARTITIONS, default="aws", help="default: aws")
    sub.add_argument(
        "--kms-key",
        type=_kms_key,
        metavar="ARN",
        help="ARN of the KMS key that encrypts the backups",
    )
    sub.add_argument(
        "--ebs-kms-key",
        type=_kms_key,
        metavar="ARN",
        help="ARN of the customer managed key of EBS encryption by default, when it is not "
        "the backups' key (default: none)",
    )


def _add_options(sub: argparse.ArgumentParser) -> None:
    """The flags of PolicyOptions."""
    sub.add_argument(
        "--profile",
        choices=[p.value for p in PolicyProfile],
        default=PolicyProfile.LEAST_PRIVILEGE.value,
        help="default: least-privilege",
    )
    sub.add_argument(
        "--region",
        action="extend",
        default=[],
        type=_regions,
        metavar="REGION",
        help="allow EC2 calls in this Region only (several: repeat the flag, or separate "
        "them with commas)",
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
    sub.add_argument(
        "--restore-only",
        action="store_true",
        help="read and restore the backups, never write, delete or re-ACL them",
    )
    sub.add_argument(
        "--object-acl-writes",
        action="store_true",
        help="grant s3:PutObjectAcl and s3:PutObjectVersionAcl on the backups",
    )
    sub.add_argument(
        "--object-lock",
        action="store_true",
        help="the bucket uses S3 Object Lock: grant s3:PutObjectRetention and "
        "s3:GetObjectRetention (never s3:BypassGovernanceRetention)",
    )
    sub.add_argument(
        "--shared-subnet-owner",
        action="append",
        default=[],
        type=_account,
        metavar="ACCOUNT",
        help="an account that shares its subnets with this one (shared VPC; repeat for several)",
    )


def _add_split(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--split",
        action="store_true",
        help='print {"PolicyDocuments": [...]}, one document per managed policy, whatever '
        "the size (default: one policy document, or an error when it does not fit one policy)",
    )
    sub.add_argument(
        "--max-managed-policies",
        type=_max_policies,
        default=DEFAULT_MAX_MANAGED_POLICIES,
        metavar="N",
        help=f"with --split: refuse to print more documents than this, as the construct's "
        f"max_managed_policies does (default: IAM's quota, {DEFAULT_MAX_MANAGED_POLICIES}; "
        f"at most {MAX_MANAGED_POLICIES}, after raising the quota)",
    )


def _max_policies(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_MANAGED_POLICIES:
        raise argparse.ArgumentTypeError(
            f"{value!r} is invalid: IAM allows 1 to {MAX_MANAGED_POLICIES} managed policies per "
            f"user, group or role ({DEFAULT_MAX_MANAGED_POLICIES} by default)"
        )
    return int(value)


def _parser() -> _Parser:
    parser = _Parser(prog=PROG, description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    policy = commands.add_parser("policy", help="print the identity policy JSON")
    _add_target(policy, bucket_required=True)
    _add_options(policy)
    _add_split(policy)

    role = commands.add_parser("vmimport-role", help="print the vmimport trust and role policies")
    _add_target(role, bucket_required=True)
    # The trust policy's aws:SourceAccount must be the account itself: when
    # vmie.amazonaws.com assumes the role, the principal is a service, and IAM
    # does not promise ${aws:PrincipalAccount} for it.
    role.add_argument(
        "--existing",
        action="store_true",
        help="only the bucket policy, for an account that already has the role",
    )
    _add_split(role)

    explain = commands.add_parser("explain", help="print what is granted, where and why")
    _add_target(explain, bucket_required=False)
    _add_options(explain)
    shown = explain.add_mutually_exclusive_group()
    shown.add_argument(
        "--workflows",
        action="store_true",
        help="print each restore workflow's calls and the statement that allows each",
    )
    shown.add_argument(
        "--blast-radius",
        action="store_true",
        help="print each attack a holder of the credential could try, and whether the "
        "policy allows it",
    )
    explain.add_argument(
        "--format", choices=("table", "markdown", "json"), default="table", help="default: table"
    )
    explain.add_argument(
        "--width",
        type=int,
        default=None,
        help=f"wrap text at this column (default: the terminal's width, or {DEFAULT_WIDTH})",
    )

    from .check import add_check_parser  # noqa: PLC0415 - keeps boto3 out of the other commands

    add_check_parser(commands, add_target=_add_target, tag=_tag, region=_region, account=_account)
    from .diff_cli import add_diff_parser  # noqa: PLC0415

    add_diff_parser(commands)
    return parser


def _options(args: argparse.Namespace) -> PolicyOptions:
    if args.profile == PolicyProfile.KB1025.value:
        for flag, given in (
            ("--instance-tag", args.instance_tag is not None),
            ("--federation", args.federation),
            ("--email-notifications", args.email_notifications),
            ("--restore-only", args.restore_only),
            ("--object-acl-writes", args.object_acl_writes),
            ("--object-lock", args.object_lock),
            ("--shared-subnet-owner", bool(args.shared_subnet_owner)),
        ):
            if given:
                raise ValueError(
                    f"{flag} is only valid with --profile least-privilege: --profile kb1025 "
                    "grants exactly what the vendor article grants"
                )
    return PolicyOptions(
        profile=PolicyProfile(args.profile),
        allowed_regions=tuple(args.region),
        instance_tag=args.instance_tag,
        federation=args.federation,
        email_notifications=args.email_notifications,
        restore_only=args.restore_only,
        object_acl_writes=args.object_acl_writes,
        object_lock=args.object_lock,
        shared_subnet_owners=tuple(args.shared_subnet_owner),
    )


def _check_buckets(args: argparse.Namespace) -> None:
    for bucket in args.bucket or ():
        error = bucket_name_error(
            bucket, legacy=args.legacy_bucket_name, legacy_option="--legacy-bucket-name"
        )
        if error is not None:
            raise ValueError(
                f"argument --bucket: {bucket!r} is not a valid S3 bucket name: {error}"
            )


def _arns(args: argparse.Namespace, regions: Sequence[str] = ()) -> PolicyTargets:
    return PolicyTargets.for_buckets(
        args.bucket,
        partition=args.partition,
        account=args.account or ACCOUNT_VARIABLE,
        kms_key_arns=[args.kms_key] if args.kms_key else [],
        regions=regions,
        ebs_kms_key_arns=[args.ebs_kms_key] if args.ebs_kms_key else [],
    )


def main(argv: Sequence[str] | None = None) -> int:
    """The entry point. A reader that closes the pipe early ends the output quietly
    (exit code 141, as SIGPIPE would give), with or without PYTHONUNBUFFERED."""
    try:
        try:
            code = _main(argv)
        finally:
            # A buffered write fails here, not at interpreter exit; argparse's
            # exits (--help) pass here too.
            sys.stdout.flush()
    except BrokenPipeError:
        # Python would flush stdout again at exit and report the broken pipe:
        # point it at /dev/null instead.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return code


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "diff":
        from .diff_cli import run_diff  # noqa: PLC0415 - boto3 loads only for --stack

        return run_diff(args, parser)
    if args.command == "check" and (args.principal_arn or "").count(":") >= 5:
        # The principal's ARN names its partition; --region must agree with it.
        args.partition = args.principal_arn.split(":")[1]
    try:
        options = _options(args) if args.command in ("policy", "explain") else None
        _check_buckets(args)
        _check_partition(args)
    except ValueError as error:
        parser.error(str(error))
    if args.command == "check":
        from .check import run_check  # noqa: PLC0415 - boto3 loads only for check

        return run_check(args, parser)
    if args.command == "policy":
        assert options is not None
        document = identity_policy(options, _arns(args, options.allowed_regions))
        _print_json(
            _split(document, parser, args.max_managed_policies)
            if args.split
            else _whole(document, parser)
        )
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
        document = vm_import_role_policy(arns, existing_role=args.existing)
        if args.split:
            result.update(_split(document, parser, args.max_managed_policies))
        else:
            result["PolicyDocument"] = _whole(document, parser)
        _print_json(result)
    else:
        assert options is not None
        width = args.width or _terminal_width()
        kms, ebs_key = args.kms_key is not None, args.ebs_kms_key is not None
        if args.workflows:
            text = render_workflows(
                options, kms=kms, ebs_key=ebs_key, output_format=args.format, width=width
            )
        elif args.blast_radius:
            text = render_blast_radius(options, kms=kms, output_format=args.format, width=width)
        else:
            targets = _arns(args, options.allowed_regions) if args.bucket else None
            text = render_rows(
                catalogue_rows(options, kms=kms, ebs_key=ebs_key),
                args.format,
                targets=targets,
                width=width,
            )
        print(text, end="")
    return 0


def _terminal_width() -> int:
    """The terminal's columns when stdout is one; DEFAULT_WIDTH for pipes and files."""
    if not sys.stdout.isatty():
        return DEFAULT_WIDTH
    return max(40, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2))


def _whole(document: dict[str, Any], parser: _Parser) -> dict[str, Any]:
    """The document, if it fits one managed policy."""
    if iam_size(document) > MANAGED_POLICY_LIMIT:
        parser.error(
            f"the policy is {iam_size(document)} characters and does not fit one managed "
            f"policy ({MANAGED_POLICY_LIMIT}): pass --split to print "
            '{"PolicyDocuments": [...]}, one document per managed policy'
        )
    return document


def _split(
    document: dict[str, Any], parser: _Parser, max_policies: int
) -> dict[str, list[dict[str, Any]]]:
    """``{"PolicyDocuments": [...]}``: documents that each fit one managed policy."""
    if iam_size(document) <= MANAGED_POLICY_LIMIT:
        return {"PolicyDocuments": [document]}
    documents = [
        policy_document(statements) for statements in plan_documents(document["Statement"])
    ]
    if len(documents) > max_policies:
        parser.error(
            f"{len(documents)} managed policies would be needed, more than "
            f"--max-managed-policies {max_policies} (IAM's quota per user, group or role: "
            f"{DEFAULT_MAX_MANAGED_POLICIES} by default, {MAX_MANAGED_POLICIES} at most). Spread "
            "the buckets over several identities (one per customer), or raise the IAM quota "
            "'Managed policies per user, group or role' and pass --max-managed-policies"
        )
    return {"PolicyDocuments": documents}


def _region_partition(region: str) -> str:
    return known_regions().get(region, "aws")


def _check_partition(args: argparse.Namespace) -> None:
    """--partition, the Regions and the KMS key ARN must name one partition."""
    partition = getattr(args, "partition", None)
    if partition is None:
        return
    regions = getattr(args, "region", None) or []
    for region in [regions] if isinstance(regions, str) else regions:
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
