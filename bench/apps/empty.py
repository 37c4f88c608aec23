"""The floor: an empty CDK app with one empty stack."""

import aws_cdk as cdk

app = cdk.App()
cdk.Stack(app, "Empty")
app.synth()
