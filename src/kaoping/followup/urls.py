from django.urls import path

from kaoping.followup import views

app_name = "followup"
urlpatterns = [
    path("", views.rectification_list_view, name="list"),
    path("<int:pk>/", views.rectification_detail_view, name="detail"),
    path("<int:pk>/step/", views.rectification_step_view, name="step"),
]
