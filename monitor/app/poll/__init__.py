"""The poll use case: fetch, parse, identify, match and store one source in one transaction."""
