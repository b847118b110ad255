"""OX Cluster Lab: Open-Xchange's "Load balancing and clustering" guide as containers and tests."""

__version__ = "0.1.0"
