from django.apps import AppConfig


class HotlineConfig(AppConfig):
    name = "kaoping.hotline"
    label = "hotline"
    verbose_name = "热线工单"
