"""hermetic: reproducible ML environments from one spec."""

__version__ = "0.1.0"
