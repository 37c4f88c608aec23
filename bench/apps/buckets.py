"""N buckets on one principal (user mode, vmimport CREATE), with the AwsSolutions pack as in app.py."""

import sys

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from restore_permissions import RestorePermissions

count = int(sys.argv[1])
app = cdk.App()
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
stack = cdk.Stack(app, "Buckets")
RestorePermissions(
    stack,
    "Restore",
    buckets=[f"customer-{i:04d}-backups" for i in range(count)],
    max_managed_policies=20,
)
app.synth()
