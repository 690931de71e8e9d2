"""Ring 2: the daemon wired from its parts, and its use cases: poll, deliver, reload, jobs."""
