"""Public rating pages (no login)."""
