from django.urls import path

from kaoping.reviews import views

app_name = "reviews"
urlpatterns = [
    path("", views.campaign_list_view, name="campaign_list"),
    path("<int:campaign_id>/", views.campaign_detail_view, name="detail"),
    path("<int:campaign_id>/open/", views.campaign_open_view, name="open"),
    path("<int:campaign_id>/close/", views.campaign_close_view, name="close"),
    path("<int:campaign_id>/invitations/", views.invitations_issue_view, name="issue"),
    path(
        "<int:campaign_id>/responses/<int:response_id>/recheck/",
        views.response_recheck_view,
        name="recheck",
    ),
    # Public: the questionnaire of a one-time invitation, no login.
    path("t/<str:token>/", views.respond_view, name="respond"),
    path("thanks/", views.thanks_view, name="thanks"),
]
