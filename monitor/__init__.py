"""newsmonitor: polls news feeds, matches watch rules and sends one alert per story."""

__version__ = "0.1.0"
