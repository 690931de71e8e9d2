"""Ring 0: the pure rules of newsmonitor. No I/O here, and no import from the other rings."""
