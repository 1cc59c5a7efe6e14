"""The package's version, in a module of its own: `_transport` names it in the User-Agent."""

__version__ = "0.2.0"
