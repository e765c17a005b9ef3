from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "kaoping.reviews"
    label = "reviews"
    verbose_name = "多维测评"
