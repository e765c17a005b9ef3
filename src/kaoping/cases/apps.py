from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "kaoping.cases"
    label = "cases"
    verbose_name = "办件"

    def ready(self) -> None:
        from kaoping.cases import receivers  # noqa: F401 - connects the calendar listener
