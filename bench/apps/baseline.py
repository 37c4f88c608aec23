"""What CDK itself costs for a small real stack: one IAM user, cdk.json's context, the AwsSolutions pack.

Not a target: it shows how much of the example app's time is CDK and cdk-nag
rather than restore-permissions.
"""

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

app = cdk.App()
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
stack = cdk.Stack(app, "Baseline")
cdk.aws_iam.User(stack, "User", groups=[cdk.aws_iam.Group(stack, "Group")])
app.synth()
