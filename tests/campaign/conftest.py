from tests.sim.server import http, sim, sim_server

__all__ = ["http", "sim", "sim_server"]
