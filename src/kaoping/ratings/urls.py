from django.urls import path

from kaoping.ratings import views

app_name = "ratings"
urlpatterns = [
    path("", views.figures_view, name="figures"),
    path("flags/", views.flag_list_view, name="flags"),
    path("flags/<int:flag_id>/review/", views.flag_review_view, name="flag_review"),
    path("poster/<int:unit_id>/", views.poster_view, name="poster"),
]
