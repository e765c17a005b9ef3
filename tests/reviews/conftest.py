"""A questionnaire and an open campaign at the test centre (`org` fixture)."""

from __future__ import annotations

import pytest

from kaoping.reviews.models import ReviewCampaign
from kaoping.reviews.services import campaign_open, questionnaire_create
from tests.factories import OrgTree
from tests.reviews.helpers import ITEMS, make_campaign


@pytest.fixture
def questionnaire(org: OrgTree):
    return questionnaire_create(actor=org.director, centre=org.centre, name="科室测评问卷", items=ITEMS)


@pytest.fixture
def campaign(org: OrgTree, questionnaire) -> ReviewCampaign:
    """Open, reviewing both departments, at least 5 respondents per group (the default)."""
    campaign = make_campaign(org, questionnaire, [org.dept_a, org.dept_b])
    return campaign_open(actor=org.director, campaign=campaign)
