"""The AWS deployment of the project: a CDK app, one stack per account (deploy/README.md)."""
