"""A local Lambda Runtime API and invoke URL, for running the real `awslambdaric` outside AWS.

It plays the part of AWS's Runtime Interface Emulator (which cannot be downloaded here): it serves
`POST /2015-03-31/functions/function/invocations` and `GET /health` on `$HOST:$PORT`, runs
`python -m awslambdaric <handler>` as its child with `AWS_LAMBDA_RUNTIME_API` pointing at its
Runtime API (on loopback), hands it one invocation at a time, kills it when an invocation outlives
the function timeout and starts a fresh one.
"""
