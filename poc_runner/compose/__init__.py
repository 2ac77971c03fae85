"""Compose files a scenario names, merged into its services before the models read them
(spec, "compose"): reading, interpolation, paths, `extends`, merging, profiles, environments."""
