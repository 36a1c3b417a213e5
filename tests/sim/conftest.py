from tests.sim.server import http, receiver, sim, sim_server

__all__ = ["http", "receiver", "sim", "sim_server"]
