"""``make mutate``: does some test notice every way a grant or its wiring can go wrong?

A control run first: the unmutated catalogue and construct must pass every
workflow and attack row. Then each mutation of tests/mutation.py (drops of
actions and resource types, condition changes, ARN changes, and the
construct's wiring in tests/wiring_mutations.py) is applied in turn: each must
make a row fail, or be exempt with its source. The same runs are in
``make test`` (tests/test_mutate.py).

Exit status 0 when the control passes and no mutation is missed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from tests.mutation import KINDS, control, run_kind


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--verbose", action="store_true", help="also print each caught mutation")
    verbose = parser.parse_args().verbose
    started = time.perf_counter()
    failing = control()
    if failing:
        print(f"control run FAILED: the unmutated catalogue fails {len(failing)} rows, e.g.")
        for line in failing[:10]:
            print(f"  {line}")
        return 1
    print("control run: the unmutated catalogue and construct pass every row")
    totals = {"mutations": 0, "caught": 0, "exempt": 0, "missed": 0}
    for kind in KINDS:
        result = run_kind(kind)
        print(
            f"{kind:<10} {result.total:>4} mutations: {len(result.caught)} caught, "
            f"{len(result.exempt)} exempt, {len(result.missed)} missed"
        )
        if verbose:
            for mutation, failure in result.caught:
                print(f"  caught  {mutation}\n          first failure: {failure}")
        for mutation, why in result.exempt:
            print(f"  exempt  {mutation}\n          {why.reason} [{why.source}]")
        for mutation in result.missed:
            print(f"  MISSED  {mutation}: no row fails, and nothing exempts it")
        totals["mutations"] += result.total
        totals["caught"] += len(result.caught)
        totals["exempt"] += len(result.exempt)
        totals["missed"] += len(result.missed)
    print(
        f"\n{totals['mutations']} mutations: {totals['caught']} caught, {totals['exempt']} "
        f"exempt, {totals['missed']} missed, in {time.perf_counter() - started:.1f} s"
    )
    return 1 if totals["missed"] else 0


if __name__ == "__main__":
    sys.exit(main())
