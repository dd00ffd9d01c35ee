"""HTTP clients that validate keys with the providers and read their credit."""
