from django.urls import path

from kaoping.workcal import views

app_name = "workcal"
urlpatterns = [
    path("", views.month_view, name="month"),
    path("<int:year>/<int:month>/", views.month_view, name="month_of"),
]
