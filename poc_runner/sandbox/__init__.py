"""The sandbox: a run's images, network, containers and data, brought up hardened and isolated,
and always torn down."""
