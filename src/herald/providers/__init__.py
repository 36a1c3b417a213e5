"""Provider adapters: one folder per provider behind the typed interface in ``base``.

Callers look a provider up in ``registry.PROVIDERS`` by its code, validate the channel's stored
configuration with its ``config_schema``, and call ``send`` / ``check_credentials`` / ``verify``
/ ``parse``. Optional capabilities (``SupportsLookup``) are checked with ``isinstance``.
"""
