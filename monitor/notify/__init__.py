"""Delivery adapters: apprise channels, what their transports answered, and channel pacing."""
