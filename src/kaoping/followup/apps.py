from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "kaoping.followup"
    label = "followup"
    verbose_name = "整改"
