from django.urls import path

from kaoping.ratings import views

app_name = "ratings"
urlpatterns = [
    path("", views.figures_view, name="figures"),
]
