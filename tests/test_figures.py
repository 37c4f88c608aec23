"""Every figure in README.md and bench/README.md comes from a command (scripts/figures.py).

docs/figures.json is what ``make figures`` computes: policy sizes from the
catalogue, and synth figures from the block that ``make bench ARGS=--write``
writes into bench/README.md (whatever that table says). The README shows
figures only in blocks rendered from docs/figures.json; outside the generated
blocks, neither README holds a measured figure.
"""

from __future__ import annotations

import json
import re

import pytest

from scripts import figures

from .conftest import ROOT

README = (ROOT / "README.md").read_text()
BENCH_README = (ROOT / "bench" / "README.md").read_text()
GENERATED = re.compile(
    r"<!-- (?P<name>(?:figures|results)[\w:-]*?):?start -->.*?<!-- (?P=name):?end -->", re.DOTALL
)
#: A measured figure: a decimal, a number with thousands separators, or a quantity in s or MB.
FIGURE = re.compile(
    r"(?<![\w.])\d+\.\d+(?![\w.])|\b\d{1,3}(?:,\d{3})+\b|\b\d+(?:\.\d+)? ?(?:ms|s|KB|MB|GB)\b"
)
#: Numbers that are not measurements: Python 3.11, IAM's and CloudFormation's quotas,
#: the bench's case sizes and its targets.
NOT_MEASURED = {"3.11", "6,144", "1,000,000", "51,200", "1,000", "1.10", "1.5"}


def hand_written_figures(text: str) -> list[str]:
    """The figures of ``text`` outside code blocks and generated blocks."""
    prose = GENERATED.sub("", re.sub(r"```.*?```", "", text, flags=re.DOTALL))
    return [m.group(0) for m in FIGURE.finditer(prose) if m.group(0) not in NOT_MEASURED]


def test_figures_json_is_what_the_command_computes() -> None:
    committed = json.loads((ROOT / "docs" / "figures.json").read_text())
    assert committed == figures.figures(), "run `make figures`"


def test_the_readme_blocks_show_figures_json() -> None:
    data = json.loads((ROOT / "docs" / "figures.json").read_text())
    assert figures.replace_blocks(README, figures.blocks(data)) == README, "run `make figures`"


@pytest.mark.parametrize("name", ["README.md", "bench/README.md"])
def test_no_figure_is_typed_outside_a_generated_block(name: str) -> None:
    assert hand_written_figures((ROOT / name).read_text()) == []


def test_a_figure_edited_by_hand_is_found() -> None:
    """Controls for the tests above: a figure changed in a block, and one typed in prose."""
    data = json.loads((ROOT / "docs" / "figures.json").read_text())
    size = f"{data['policy']['sizes']['least_privilege']:,}"
    edited = README.replace(f"| `least_privilege()` | {size} |", "| `least_privilege()` | 2,000 |")
    assert edited != README
    assert figures.replace_blocks(edited, figures.blocks(data)) != edited
    assert hand_written_figures("The CLI answers in under 0.1 s, 12 s from the cache.") == [
        "0.1",
        "12 s",
    ]
    assert hand_written_figures("<!-- figures:x:start -->\n0.93\n<!-- figures:x:end -->") == []


def test_the_bench_figures_are_its_generated_block() -> None:
    """The README's synth figures are bench/README.md's results block, line for line."""
    bench = figures.bench_figures(BENCH_README)
    block = README[README.index("<!-- figures:synth-speed:start -->") :]
    for line in [bench["measured"], *bench["notes"]]:
        assert f"- {line}\n" in block
