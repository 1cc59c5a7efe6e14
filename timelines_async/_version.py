"""The package's version, in a module of its own so that `_http` can name it in the User-Agent."""

__version__ = "0.2.0"
