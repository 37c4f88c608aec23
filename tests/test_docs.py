"""docs/permissions.md is generated from the catalogue and must not go stale."""

from __future__ import annotations

from restore_permissions.docs import permissions_markdown

from .conftest import ROOT


def test_permissions_doc_is_current() -> None:
    committed = (ROOT / "docs" / "permissions.md").read_text()
    assert committed == permissions_markdown(), "run `make docs` and commit docs/permissions.md"


def test_readme_links_the_permissions_doc() -> None:
    assert "](docs/permissions.md)" in (ROOT / "README.md").read_text()
