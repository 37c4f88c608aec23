"""100 role-mode RestorePermissions in one stack (100 user-mode ones would pass 500 resources)."""

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks

from restore_permissions import (
    RestoreIdentity,
    RestorePermissions,
)

app = cdk.App()
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
stack = cdk.Stack(app, "Customers")
for i in range(100):
    RestorePermissions(
        stack,
        f"Customer{i}",
        bucket=f"customer-{i:04d}-backups",
        create_outputs=False,
        identity=RestoreIdentity.role(
            assumed_by=iam.AccountPrincipal("111122223333"), external_id=f"customer-{i:04d}"
        ),
    )
app.synth()
