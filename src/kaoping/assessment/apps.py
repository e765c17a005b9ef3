from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "kaoping.assessment"
    label = "assessment"
    verbose_name = "考核"
