from django.urls import path

from kaoping.cases import views

app_name = "cases"
urlpatterns = [
    path("", views.case_list_view, name="list"),
    path("<int:case_id>/", views.case_detail_view, name="detail"),
    path("warnings/", views.warning_feed_view, name="warnings"),
    path("warnings/<int:warning_id>/acknowledge/", views.warning_acknowledge_view, name="acknowledge"),
    path("day/", views.unit_day_view, name="day"),
]
