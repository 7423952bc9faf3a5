"""`cdk synth` / `cdk deploy` run this (cdk.json): the four stacks of private_apis_deploy."""

from aws_cdk import App
from private_apis_deploy.app import build

app = App()
build(app)
app.synth()
