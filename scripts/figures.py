"""The docs' figures, from commands, in one place: docs/figures.json.

    make figures    # writes docs/figures.json and the README's figure blocks

Two sources, nothing typed by hand:

- policy sizes, in the characters IAM counts, computed here with the same
  functions as ``restore-permissions policy``;
- synth times and template bytes, read from the results block that
  ``make bench ARGS=--write`` writes into bench/README.md (its "Measured on"
  line, its table and the ratio lines under it, quoted as they are).

The README shows them only inside ``<!-- figures:NAME:start -->`` blocks that
this script renders. tests/test_figures.py recomputes everything and fails when
docs/figures.json, a block, or a figure outside the blocks differs.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys
from collections.abc import Mapping
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from restore_permissions.policy import (  # noqa: E402 - after the path set-up
    MANAGED_POLICY_LIMIT,
    PolicyProfile,
    PolicyTargets,
    iam_size,
    identity_policy,
    plan_documents,
    vm_import_role_policy,
)
from restore_permissions.policy.statements import known_regions  # noqa: E402

FIGURES = ROOT / "docs" / "figures.json"
README = ROOT / "README.md"
BENCH_README = ROOT / "bench" / "README.md"
ACCOUNT = "111122223333"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
EBS_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/5678abcd-12ab-34cd-56ef-1234567890ab"

#: The bench cases the README quotes (a substring of the bench table's "Case" cell).
USER_CUSTOMERS = "user-mode customers"
ROLE_CUSTOMERS = "role-mode customers"


def _size(options: Any, *, kms: bool = False, bucket: str = "my-backups") -> int:
    targets = PolicyTargets.for_buckets(
        [bucket],
        account=ACCOUNT,
        kms_key_arns=[KEY] if kms else [],
        regions=options.allowed_regions,
    )
    return iam_size(identity_policy(options, targets))


def _largest(regions: list[str]) -> dict[str, Any]:
    """Every option, the longest partition, a 63-character bucket name and a KMS key."""
    options = PolicyProfile.least_privilege(
        allowed_regions=regions,
        instance_tag=("restore-permissions/restored-by", "cloudberry-backup"),
        federation=True,
        email_notifications=True,
    )
    targets = PolicyTargets.for_buckets(
        ["b" * 63],
        partition="aws-us-gov",
        account=ACCOUNT,
        kms_key_arns=[KEY.replace("arn:aws:", "arn:aws-us-gov:")],
        regions=regions,
    )
    return identity_policy(options, targets)


def policy_figures() -> dict[str, Any]:
    every_option = PolicyProfile.least_privilege(
        allowed_regions=["eu-west-1"],
        instance_tag=("restore-permissions", "restored"),
        federation=True,
        email_notifications=True,
    )
    tag = ("restore-permissions", "restored")
    restore_only = PolicyProfile.least_privilege(restore_only=True)
    tag_restore_only = PolicyProfile.least_privilege(instance_tag=tag, restore_only=True)
    role = PolicyTargets.for_buckets(["my-backups"], account=ACCOUNT)
    role_kms = PolicyTargets.for_buckets(["my-backups"], account=ACCOUNT, kms_key_arns=[KEY])
    role_kms_ebs = PolicyTargets.for_buckets(
        ["my-backups"], account=ACCOUNT, kms_key_arns=[KEY], ebs_kms_key_arns=[EBS_KEY]
    )
    commercial = sorted(r for r, partition in known_regions().items() if partition == "aws")
    largest_all = _largest(commercial)
    return {
        "sizes": {
            "least_privilege": _size(PolicyProfile.least_privilege()),
            "least_privilege_kms": _size(PolicyProfile.least_privilege(), kms=True),
            "least_privilege_kms_ebs_key": iam_size(
                identity_policy(PolicyProfile.least_privilege(), role_kms_ebs)
            ),
            "least_privilege_object_lock": _size(PolicyProfile.least_privilege(object_lock=True)),
            "least_privilege_shared_subnets": _size(
                PolicyProfile.least_privilege(shared_subnet_owners=["444455556666"])
            ),
            "least_privilege_restore_only_kms": _size(restore_only, kms=True),
            "least_privilege_tag_restore_only_kms": _size(tag_restore_only, kms=True),
            "least_privilege_every_option_kms": _size(every_option, kms=True),
            "kb1025": _size(PolicyProfile.kb1025()),
            "kb1025_kms": _size(PolicyProfile.kb1025(), kms=True),
            "vmimport": iam_size(vm_import_role_policy(role)),
            "vmimport_kms": iam_size(vm_import_role_policy(role_kms)),
            "vmimport_kms_ebs_key": iam_size(vm_import_role_policy(role_kms_ebs)),
        },
        "largest_ten_regions": iam_size(_largest(commercial[:10])),
        "commercial_regions": len(commercial),
        "largest_all_regions": iam_size(largest_all),
        "largest_all_regions_policies": len(plan_documents(largest_all["Statement"])),
        "limit": MANAGED_POLICY_LIMIT,
    }


def bench_figures(text: str) -> dict[str, Any]:
    """The results block of bench/README.md: its lines, and its table as rows of cells."""
    start, end = "<!-- results:start -->\n", "<!-- results:end -->"
    if start not in text or end not in text:
        raise SystemExit(
            f"{BENCH_README}: no {start.strip()} ... {end} block (make bench ARGS=--write)"
        )
    lines = text[text.index(start) + len(start) : text.index(end)].strip().splitlines()
    table = [line for line in lines if line.startswith("|")]
    headers = [cell.strip() for cell in table[0].strip("|").split("|")]
    rows = [
        dict(zip(headers, (cell.strip() for cell in line.strip("|").split("|")), strict=True))
        for line in table[2:]
    ]
    return {
        "measured": next(line for line in lines if line.startswith("Measured")),
        "rows": rows,
        "notes": [line for line in lines if line and not line.startswith(("|", "Measured"))],
    }


def figures() -> dict[str, Any]:
    return {
        "source": "scripts/figures.py (make figures); bench: bench/README.md's results block",
        "policy": policy_figures(),
        "bench": bench_figures(BENCH_README.read_text()),
    }


def _row(bench: Mapping[str, Any], case: str) -> Mapping[str, str]:
    found = [row for row in bench["rows"] if case in next(iter(row.values()))]
    if len(found) != 1:
        raise SystemExit(f"bench/README.md's results table has no single row for {case!r}")
    return found[0]


def _cell(row: Mapping[str, str], header: str) -> str:
    if header not in row:
        raise SystemExit(f"bench/README.md's results table has no column {header!r}")
    return row[header]


def blocks(data: Mapping[str, Any]) -> dict[str, str]:
    """The README's figure blocks, rendered from ``data`` (docs/figures.json)."""
    policy, bench = data["policy"], data["bench"]
    sizes = {key: f"{value:,}" for key, value in policy["sizes"].items()}
    user, role = _row(bench, USER_CUSTOMERS), _row(bench, ROLE_CUSTOMERS)
    return {
        "policy-sizes": "\n".join(
            [
                "| Policy | Characters |",
                "| --- | --- |",
                f"| `least_privilege()` | {sizes['least_privilege']} |",
                f"| `least_privilege()`, KMS | {sizes['least_privilege_kms']} |",
                "| `least_privilege()`, KMS, EBS key (`ebs_encryption_key`) | "
                f"{sizes['least_privilege_kms_ebs_key']} |",
                f"| `least_privilege(object_lock=True)` | {sizes['least_privilege_object_lock']} |",
                "| `least_privilege(shared_subnet_owners=[ACCOUNT])` | "
                f"{sizes['least_privilege_shared_subnets']} |",
                "| `least_privilege(restore_only=True)`, KMS | "
                f"{sizes['least_privilege_restore_only_kms']} |",
                "| `least_privilege(...)`, tag guard, `restore_only`, KMS | "
                f"{sizes['least_privilege_tag_restore_only_kms']} |",
                "| `least_privilege(...)`, one Region, tag guard, federation, e-mail, KMS | "
                f"{sizes['least_privilege_every_option_kms']} |",
                f"| `kb1025()` | {sizes['kb1025']} |",
                f"| `kb1025()`, KMS | {sizes['kb1025_kms']} |",
                f"| `vmimport` role (with KMS; with KMS and an EBS key) | {sizes['vmimport']} "
                f"({sizes['vmimport_kms']}; {sizes['vmimport_kms_ebs_key']}) |",
                "",
                "A test checks that the largest combination with up to 10 Regions fits one",
                "managed policy: every option, the `aws-us-gov` partition, a 63-character",
                f"bucket name and a KMS key ({policy['largest_ten_regions']:,} characters). Each",
                "allowed Region repeats in the condition of each EC2 statement of the tag",
                f"guard, so with all {policy['commercial_regions']} commercial Regions that",
                f"botocore knows, that combination takes {policy['largest_all_regions']:,}",
                "characters, and the construct (and the command line) splits it over",
                f"{policy['largest_all_regions_policies']} managed policies.",
            ]
        )
        + "\n",
        "customers-per-stack": "\n".join(
            [
                "| Mode | Resources per customer | Outputs per customer | Customers per stack "
                "| Template bytes at that size | Bytes per customer |",
                "| --- | --- | --- | --- | --- | --- |",
                "| User mode with a key | 5 (user, group, policy, key, secret) | 5, and 1 per "
                "stack | 98 (500 resources); 39 with outputs (200 outputs) | "
                f"{_cell(user, 'Template bytes')} | {_cell(user, 'Bytes per customer')} |",
                # 244 in a default app (tests/test_consumer_sizing.py); bench measures 245
                # without CDK's metadata resource.
                "| Role mode | 2 (role, policy) | 3, and 1 per stack | 244 (500 resources); 66 "
                f"with outputs (200 outputs) | {_cell(role, 'Template bytes')} (at 245) | "
                f"{_cell(role, 'Bytes per customer')} |",
            ]
        )
        + "\n",
        "synth-speed": "\n".join(
            [
                "The results in bench/README.md, as `make bench` wrote them:",
                "",
                *(f"- {line}" for line in [bench["measured"], *bench["notes"]]),
            ]
        )
        + "\n",
    }


def replace_blocks(text: str, rendered: Mapping[str, str]) -> str:
    """``text`` with each block's body rendered, indented as its start marker is."""
    for name, body in rendered.items():
        block = re.compile(
            rf"^( *)(<!-- figures:{name}:start -->\n).*?^ *(<!-- figures:{name}:end -->)",
            re.DOTALL | re.MULTILINE,
        )
        if block.search(text) is None:
            raise SystemExit(f"README.md has no <!-- figures:{name}:start --> block")
        text = block.sub(
            lambda match, body=body: (
                match.group(1)
                + match.group(2)
                + "".join(f"{match.group(1)}{line}".rstrip() + "\n" for line in body.splitlines())
                + match.group(1)
                + match.group(3)
            ),
            text,
            count=1,
        )
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--write", action="store_true", help="write docs/figures.json and README.md"
    )
    args = parser.parse_args(argv)
    data = figures()
    text = json.dumps(data, indent=2) + "\n"
    if not args.write:
        print(text, end="")
        return 0
    FIGURES.write_text(text)
    README.write_text(replace_blocks(README.read_text(), blocks(data)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
