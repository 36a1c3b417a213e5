"""The provider simulator: a stand-in for SMS/WhatsApp providers that Herald's adapters,
the demo and the benchmarks send to over real HTTP."""
