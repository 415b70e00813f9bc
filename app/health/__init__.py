"""Liveness of the web process, its database and the worker."""
