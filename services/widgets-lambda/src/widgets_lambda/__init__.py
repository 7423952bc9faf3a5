"""Widgets: the Lambda behind the private `widgets` REST API (cross-account patterns, pattern 1).

The entry point is `widgets_lambda.handler.handler`.
"""
