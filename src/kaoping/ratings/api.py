"""HTTP API of the ratings app."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["ratings"])
