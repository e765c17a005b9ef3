"""Kaoping (考评): assessment of government service centres."""

__version__ = "0.1.0"
