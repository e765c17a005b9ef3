"""Public (no login) rating pages, reached by QR code: short addresses under /r/."""

from django.urls import URLPattern

app_name = "rate"
urlpatterns: list[URLPattern] = []
