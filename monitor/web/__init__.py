"""The web console: pages, a JSON API, health checks and metrics over the store."""
