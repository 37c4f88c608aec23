"""``make snapshot-update``'s report: what each rewritten template snapshot does to restores.

    python scripts/snapshot_impact.py BEFORE_DIR tests/__snapshots__

BEFORE_DIR is a copy of tests/__snapshots__ taken before the rewrite. For each
JSON snapshot that the rewrite changed or added, prints its path and the
restore-impact summary of the change (``restore-permissions diff`` between
the old and the new template). Snapshots that are not templates are named
with what was found instead. Exit status 0.
"""

from __future__ import annotations

import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from restore_permissions.diff import template_impact


def report(before: pathlib.Path, after: pathlib.Path) -> list[str]:
    lines = []
    for path in sorted(after.rglob("*.json")):
        relative = path.relative_to(after)
        old_path = before / relative
        new_text = path.read_text()
        if old_path.exists() and old_path.read_text() == new_text:
            continue
        lines.append(f"{after / relative}:")
        if not old_path.exists():
            lines.append("  new snapshot: nothing to compare it with")
            continue
        lines += [
            "  " + line
            for line in template_impact(
                json.loads(old_path.read_text()), json.loads(new_text)
            ).splitlines()
        ]
    removed = sorted(
        str(p.relative_to(before))
        for p in before.rglob("*.json")
        if not (after / p.relative_to(before)).exists()
    )
    lines += [f"{after / name}: removed" for name in removed]
    return lines or ["No template snapshot changed."]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: snapshot_impact.py BEFORE_DIR AFTER_DIR", file=sys.stderr)
        return 2
    print("\n".join(report(pathlib.Path(argv[0]), pathlib.Path(argv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
