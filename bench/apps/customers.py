"""N customers in one stack, each with a 63-character bucket name, no outputs: MODE is user or role."""

import sys

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks

from restore_permissions import RestoreIdentity, RestorePermissions

mode, count = sys.argv[1], int(sys.argv[2])
app = cdk.App()
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
stack = cdk.Stack(app, "Customers")
for i in range(count):
    RestorePermissions(
        stack,
        f"Customer{i}",
        bucket=f"c{i:03d}-" + "b" * 58,
        create_outputs=False,
        identity=None
        if mode == "user"
        else RestoreIdentity.role(
            assumed_by=iam.AccountPrincipal("111122223333"), external_id=f"customer-{i:04d}"
        ),
    )
app.synth()
