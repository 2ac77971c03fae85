"""`poc setup` on a Docker engine."""
