"""Delivery adapters: apprise channels and the outbox drain."""
