from django.apps import AppConfig


class TargetsConfig(AppConfig):
    name = "kaoping.targets"
    label = "targets"
    verbose_name = "目标责任与考核任务"
