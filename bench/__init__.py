"""The data path's cost targets (`make bench`, bench/README.md): the gateway against NGINX in front
of the same Dog Names, SigV4 against the public API, the added p99 at half load, Dog Names against
a bare ASGI app, ToDo's durable writes, cold starts, memory; side by side, round after round.

Everything runs on loopback: the servers are started on free ports (the providers and the gateway
as `make run` starts them) and stopped at the end. Counts and wall-clock time are bounded.
"""
