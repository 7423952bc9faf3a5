"""Consumer Lambda: calls the private `partner` API with SigV4-signed requests.

The entry point is `consumer_lambda.handler.handler`.
"""
