"""nets layer."""
