"""Adapters that bring feeds in: HTTP fetching (`http`) and feed parsing (`feeds`)."""
