"""The test suite.

jsii runs the venv's Node.js 24 (requirements.txt) even when pytest starts
without the venv on PATH: JSII_NODE names it before any test imports aws_cdk.
"""

import os
import pathlib
import sys

_VENV_NODE = pathlib.Path(sys.executable).parent / "node"
if _VENV_NODE.exists():
    os.environ.setdefault("JSII_NODE", str(_VENV_NODE))
