"""The Docker engine, local or remote."""
