from __future__ import annotations

import pytest

from tests.factories import OrgTree, build_org


@pytest.fixture
def calendar_db(db):
    """The database calendar seeded from the chinese-calendar package, as `kaoping setup` does."""
    from kaoping.workcal.selectors import invalidate_calendar_cache
    from kaoping.workcal.services import calendar_seed_from_package

    calendar_seed_from_package(actor="test")
    invalidate_calendar_cache()
    yield
    invalidate_calendar_cache()


@pytest.fixture
def org(db) -> OrgTree:
    return build_org()
