import sqlite3

from django.apps import AppConfig


def _null(value: None) -> None:
    return None


class CoreConfig(AppConfig):
    name = "kaoping.core"
    label = "core"
    verbose_name = "核心"

    def ready(self) -> None:
        # Python's sqlite3 binds int, float, str and bytes directly, but looks a bool or a None up
        # as an object to adapt: with no adapter registered it tries ``__adapt__`` and
        # ``__conform__``, formatting and clearing an AttributeError each time (~3,000 machine
        # instructions a value: ~7% of a case file import's writing process). A registered adapter is
        # one dictionary look-up and a call; the stored values are the same (1, 0, NULL).
        sqlite3.register_adapter(bool, int)
        sqlite3.register_adapter(type(None), _null)
