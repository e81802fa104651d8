"""The package version, in a leaf module: engines read it for their User-Agent
without importing the package root (layers point one way)."""

__version__ = "0.1.0"
