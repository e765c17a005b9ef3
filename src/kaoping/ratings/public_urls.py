"""Public (no login) rating pages, reached by QR code: short addresses under /r/."""

from django.urls import path

from kaoping.ratings import public_views

app_name = "rate"
urlpatterns = [
    path("w/<str:code>/", public_views.window_rate_view, name="window"),
    path("c/<str:token>/", public_views.case_rate_view, name="case"),
    path("thanks/", public_views.thanks_view, name="thanks"),
]
