"""The rotation function of the TOKEN authorizer's shared secret: this folder is its code asset
(the Lambda Python runtime's boto3 is all it needs), `handler.handler` its entry point."""
