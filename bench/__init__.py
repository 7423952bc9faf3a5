"""Benchmarks of the native stack (`make bench`): gateway overhead, SigV4, ToDo writes, memory.

Everything runs on loopback: the providers and the gateway are started as `make run` starts them,
on free ports, and stopped at the end. Counts and wall-clock time are bounded.
"""
