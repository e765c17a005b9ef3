from django.urls import path

from kaoping.org import views

app_name = "org"
urlpatterns = [
    path("units/", views.unit_list_view, name="unit_list"),
    path("units/<int:unit_id>/", views.unit_detail_view, name="unit_detail"),
]
