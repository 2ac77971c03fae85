"""poc-runner: prove a product works on a prospect's own data, in an isolated sandbox."""

__version__ = "0.1.0"
