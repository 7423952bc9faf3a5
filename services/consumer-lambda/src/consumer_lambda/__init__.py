"""Consumer Lambda functions of account 444444444444, one image with two handlers:

- `consumer_lambda.handler.handler` (the image's default): calls the private `partner` API with
  SigV4-signed requests, from the consumer VPC;
- `consumer_lambda.widgets.handler`: the cross-account patterns post's ConsumerFunction, calls the
  private `widgets` API with the shared-secret token, from the front door's VPC.
"""
