"""Service level objectives, their measurement (Prometheus or sampling) and watch mode."""
