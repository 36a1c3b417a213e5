"""Encryption keys: the registry of encrypted columns, key rotation and re-encryption."""
