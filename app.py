#!/usr/bin/env python3
"""Example app: one stack with a RestorePermissions, checked by cdk-nag's AwsSolutions pack.

    npx cdk synth -c bucket_name=my-backups
    npx cdk synth                      # the bucket becomes a BucketName parameter

The ``-c`` options are listed in README.md ("Example app options") and checked
in restore_permissions/app_context.py: a bad one is one line and exit code 1.
"""

import sys
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from restore_permissions import RestorePermissions
from restore_permissions.app_context import AppContext


def build_app(context: Mapping[str, Any] | None = None) -> cdk.App:
    app = cdk.App(context=dict(context) if context is not None else None)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    options = AppContext.of(app)  # every -c key=value, checked
    stack = options.new_stack(app)  # in a stage of its own with -c rollout=stackset
    RestorePermissions(stack, "Restore", **options.construct_props(stack))
    options.add_rollout(app, member=stack)  # only with -c rollout=stackset
    return app


def main(context: Mapping[str, Any] | None = None) -> int:
    try:
        build_app(context).synth()
    except ValueError as error:  # a bad -c value, or a prop RestorePermissions refuses
        print(f"app.py: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
