"""Shared package of the External providers service: domain, stores and provider clients."""
