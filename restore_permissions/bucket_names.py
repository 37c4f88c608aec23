"""S3 bucket-name rules, checked at synth time without starting jsii.

Source: docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
(general purpose buckets), including its "legacy bucket names" note.

``s3.Bucket.from_bucket_name`` lets names such as ``My_Bucket`` and
``xn--abc`` through, and refuses legacy names longer than 63 characters, so
the construct checks names here before CDK sees them.
"""

from __future__ import annotations

import re

MIN_LENGTH = 3
MAX_LENGTH = 63
#: Buckets created in us-east-1 before 1 March 2018 may be this long.
LEGACY_MAX_LENGTH = 255

FORBIDDEN_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
FORBIDDEN_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")

_CHARS = re.compile(r"[a-z0-9.-]+")
_LEGACY_CHARS = re.compile(r"[A-Za-z0-9._-]+")
_ENDS = re.compile(r"[A-Za-z0-9](.*[A-Za-z0-9])?", re.DOTALL)
_IP_ADDRESS = re.compile(r"\d{1,3}(\.\d{1,3}){3}")

#: The same rules (modern names only) as one regular expression, for the
#: CloudFormation parameter's ``AllowedPattern``. CloudFormation evaluates it
#: with Java regular expressions, which support these look-aheads; the tests
#: check it against :func:`bucket_name_problem` on the same names.
ALLOWED_PATTERN = (
    "^"
    "(?!" + "|".join(p.replace(".", r"\.") for p in FORBIDDEN_PREFIXES) + ")"
    "(?!.*(" + "|".join(s.replace(".", r"\.") for s in FORBIDDEN_SUFFIXES) + ")$)"
    r"(?!\d{1,3}(\.\d{1,3}){3}$)"
    r"(?!.*\.\.)"
    "[a-z0-9][a-z0-9.-]{%d,%d}[a-z0-9]"
    "$"
) % (MIN_LENGTH - 2, MAX_LENGTH - 2)

CONSTRAINT_DESCRIPTION = (
    "3 to 63 characters of lowercase letters, digits, '.' and '-', starting and ending "
    "with a letter or digit; no '..'; not an IP address; no reserved prefix "
    f"({', '.join(FORBIDDEN_PREFIXES)}) or suffix ({', '.join(FORBIDDEN_SUFFIXES)})."
)


def legacy_hint(spelling: str) -> str:
    """The legacy-name hint, naming the option as the caller spells it."""
    return (
        "If this is a legacy bucket created in us-east-1 before 1 March 2018 "
        f"(uppercase letters, underscores, up to 255 characters), pass {spelling}."
    )


def bucket_name_problem(name: str, *, legacy: bool = False) -> str | None:
    """Return the first S3 naming rule that ``name`` breaks, or None if it is valid.

    With ``legacy=True`` uppercase letters, underscores and up to 255
    characters are allowed; every other rule still applies.
    """
    if name.startswith("arn:"):
        return "it is an ARN; pass the bucket name alone" + _suggest(name.split(":::", 1)[-1])
    if "://" in name:
        suggestion = _suggest(name.removeprefix("s3://")) if name.startswith("s3://") else ""
        return "it is a URL; pass the bucket name alone" + suggestion
    max_length = LEGACY_MAX_LENGTH if legacy else MAX_LENGTH
    if not MIN_LENGTH <= len(name) <= max_length:
        return f"it is {len(name)} characters long; bucket names have {MIN_LENGTH} to {max_length}"
    chars = _LEGACY_CHARS if legacy else _CHARS
    if not chars.fullmatch(name):
        allowed = (
            "letters, digits, '.', '_' and '-'"
            if legacy
            else "lowercase letters, digits, '.' and '-'"
        )
        bad = sorted({c for c in name if not chars.fullmatch(c)})
        return f"it contains {', '.join(repr(c) for c in bad)}; only {allowed} are allowed"
    if not _ENDS.fullmatch(name):
        return "it must start and end with a letter or digit"
    if ".." in name:
        return "it contains two adjacent periods ('..')"
    if _IP_ADDRESS.fullmatch(name):
        return "it is formatted as an IP address"
    for prefix in FORBIDDEN_PREFIXES:
        if name.startswith(prefix):
            return f"the prefix {prefix!r} is reserved"
    for suffix in FORBIDDEN_SUFFIXES:
        if name.endswith(suffix):
            return f"the suffix {suffix!r} is reserved"
    return None


def bucket_name_error(name: str, *, legacy: bool, legacy_option: str) -> str | None:
    """The rule ``name`` breaks, as a sentence, or None if it is valid.

    For a name that only the legacy rules allow, the sentence ends with the
    hint to pass ``legacy_option``, spelled as the caller's user types it
    (a prop, a flag or a ``-c`` key).
    """
    problem = bucket_name_problem(name, legacy=legacy)
    if problem is None:
        return None
    hint = " " + legacy_hint(legacy_option) if not legacy and is_legacy_only(name) else ""
    return f"{problem}.{hint}"


def is_legacy_only(name: str) -> bool:
    """True when ``name`` breaks the modern rules but passes the legacy ones."""
    return bucket_name_problem(name) is not None and bucket_name_problem(name, legacy=True) is None


def _suggest(candidate: str) -> str:
    candidate = candidate.split("/", 1)[0]
    if candidate and bucket_name_problem(candidate) is None:
        return f" (for example {candidate!r})"
    return ""
