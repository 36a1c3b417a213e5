"""Channels: a tenant's sender accounts on providers, sender pools, caps and health."""
