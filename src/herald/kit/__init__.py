"""Shared infrastructure: database, errors, pagination, ids. Nothing here imports a domain."""
