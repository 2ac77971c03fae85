"""The engines a sandbox can run on."""
