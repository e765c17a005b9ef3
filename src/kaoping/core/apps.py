from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kaoping.core"
    label = "core"
    verbose_name = "核心"
