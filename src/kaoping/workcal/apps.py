from django.apps import AppConfig


class WorkcalConfig(AppConfig):
    name = "kaoping.workcal"
    label = "workcal"
    verbose_name = "工作日历"
