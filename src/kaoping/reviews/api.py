"""HTTP API of the reviews app."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["reviews"])
