from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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


@pytest.fixture(scope="session")
def cli_install(tmp_path_factory: Any) -> Any:
    """A set-up installation with the demo organisation, for tests that run the `kaoping` command."""
    import subprocess

    from tests.test_cli import KAOPING, cli_env

    var = tmp_path_factory.mktemp("var")
    for args in (["setup"], ["demo", "load"]):
        done = subprocess.run([KAOPING, *args], env=cli_env(var), capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    return var


@pytest.fixture
def org(db) -> OrgTree:
    return build_org()


@pytest.fixture
def english() -> Iterator[None]:
    """The English catalogue compiled and loaded; Chinese again afterwards."""
    from django.utils import translation
    from django.utils.translation import trans_real

    from kaoping.web.i18n import compile_translations

    compile_translations()
    # Catalogues loaded before the .mo was compiled are cached per process: start afresh.
    setattr(trans_real, "_translations", {})  # noqa: B010
    setattr(trans_real, "_default", None)  # noqa: B010
    yield
    translation.activate("zh-hans")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say loudly which browser tests did not run and what they need."""
    from tests.web.browser import CHROMIUM, HOW_TO_INSTALL, chromium_available

    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "browser" in r.keywords]
    if skipped and not chromium_available():
        terminalreporter.write_sep("!", "BROWSER TESTS SKIPPED", red=True, bold=True)
        terminalreporter.write_line(
            f"{len(skipped)} browser test(s) did not run: chromium not found at {CHROMIUM}."
        )
        terminalreporter.write_line(f"To run them, {HOW_TO_INSTALL}.")
