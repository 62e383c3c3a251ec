"""kctl's Kubernetes API server."""

__version__ = "0.1.0"
