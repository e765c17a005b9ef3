from django.urls import path

from kaoping.evidence import views

app_name = "evidence"
urlpatterns = [path("verify/", views.verify_view, name="verify")]
