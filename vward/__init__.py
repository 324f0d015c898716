"""virtual ward: remote patient monitoring and virtual ward platform (shared kernel)."""

__version__ = "0.1.0"
