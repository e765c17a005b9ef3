from django.urls import path

from kaoping.reviews import views

app_name = "reviews"
urlpatterns = [
    path("", views.campaign_list_view, name="campaign_list"),
]
