"""Herald's processes: the ``herald up`` supervisor and the API, worker and simulator entry
points it starts."""
