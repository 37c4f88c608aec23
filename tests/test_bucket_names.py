"""S3 bucket-name rules (pure Python) and the CloudFormation AllowedPattern built from them."""

from __future__ import annotations

import re

import pytest

from restore_permissions.bucket_names import (
    ALLOWED_PATTERN,
    bucket_name_problem,
    is_legacy_only,
)

VALID = [
    "abc",
    "my-backups",
    "backups.example.com",
    "0-backups-9",
    "a" * 63,
    "xn-abc",  # only the exact prefix xn-- is reserved
    "my-s3alias-backups",  # the reserved suffix only counts at the end
    "1.2.3.4.5",  # four dotted numbers make an IP address; five do not
]

# name -> the rule it breaks, as the error reports it
INVALID = {
    "ab": "it is 2 characters long; bucket names have 3 to 63",
    "a" * 64: "it is 64 characters long; bucket names have 3 to 63",
    "My_Bucket": "it contains 'B', 'M', '_'; only lowercase letters, digits, '.' and '-' are allowed",
    "my backups": "it contains ' '; only lowercase letters, digits, '.' and '-' are allowed",
    "-backups": "it must start and end with a letter or digit",
    "backups.": "it must start and end with a letter or digit",
    "my..backups": "it contains two adjacent periods ('..')",
    "192.168.5.4": "it is formatted as an IP address",
    "xn--abc": "the prefix 'xn--' is reserved",
    "sthree-backups": "the prefix 'sthree-' is reserved",
    "amzn-s3-demo-backups": "the prefix 'amzn-s3-demo-' is reserved",
    "backups-s3alias": "the suffix '-s3alias' is reserved",
    "backups--ol-s3": "the suffix '--ol-s3' is reserved",
    "backups.mrap": "the suffix '.mrap' is reserved",
    "backups--x-s3": "the suffix '--x-s3' is reserved",
    "backups--table-s3": "the suffix '--table-s3' is reserved",
    "arn:aws:s3:::my-backups": "it is an ARN; pass the bucket name alone (for example 'my-backups')",
    "arn:aws:s3:::my-backups/*": "it is an ARN; pass the bucket name alone (for example 'my-backups')",
    "s3://my-backups/path": "it is a URL; pass the bucket name alone (for example 'my-backups')",
    "https://my-backups.s3.amazonaws.com": "it is a URL; pass the bucket name alone",
}


@pytest.mark.parametrize("name", VALID)
def test_valid_names_pass(name: str) -> None:
    assert bucket_name_problem(name) is None


@pytest.mark.parametrize(("name", "problem"), INVALID.items())
def test_invalid_names_report_the_rule(name: str, problem: str) -> None:
    assert bucket_name_problem(name) == problem


@pytest.mark.parametrize("name", ["My_Legacy_Bucket", "A" * 255, "legacy_backups"])
def test_legacy_names_pass_only_in_legacy_mode(name: str) -> None:
    assert bucket_name_problem(name) is not None
    assert bucket_name_problem(name, legacy=True) is None
    assert is_legacy_only(name)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("A" * 256, "it is 256 characters long; bucket names have 3 to 255"),
        ("Legacy..Bucket", "it contains two adjacent periods ('..')"),
        ("legacy bucket", "it contains ' '; only letters, digits, '.', '_' and '-' are allowed"),
    ],
)
def test_legacy_mode_keeps_the_other_rules(name: str, problem: str) -> None:
    assert bucket_name_problem(name, legacy=True) == problem
    assert not is_legacy_only(name)


#: Names that only the case rule refuses: a pattern that accepted uppercase
#: would still pass every other row.
UPPERCASE_ONLY = ["MyBackups", "BACKUPS", "backups-Q"]


@pytest.mark.parametrize("name", VALID + list(INVALID) + UPPERCASE_ONLY)
def test_cloudformation_pattern_agrees_with_the_python_rules(name: str) -> None:
    # CloudFormation matches AllowedPattern with Java regular expressions; the
    # constructs used here (look-aheads, classes, bounded repeats) mean the same
    # in Python's re.
    assert (re.fullmatch(ALLOWED_PATTERN, name) is not None) == (bucket_name_problem(name) is None)
