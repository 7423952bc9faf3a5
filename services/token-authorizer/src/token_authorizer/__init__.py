"""TOKEN authorizer: lets a caller in when its token equals the shared secret.

The entry point is `token_authorizer.handler.handler`.
"""
