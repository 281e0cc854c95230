"""dudao (督导): a supervision-programme bot service."""

__version__ = "0.1.0"
