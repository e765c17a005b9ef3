from django.urls import path

from kaoping.hotline import views

app_name = "hotline"
urlpatterns = [
    path("", views.hotline_home_view, name="home"),
    path("board/", views.board_view, name="board"),
    path("board/accept/", views.accept_view, name="accept"),
    path("inbox/", views.inbox_view, name="inbox"),
    path("review/", views.review_view, name="review"),
    path("figures/", views.figures_view, name="figures"),
    path("tickets/<int:pk>/", views.ticket_detail_view, name="detail"),
    path("tickets/<int:pk>/act/", views.ticket_act_view, name="act"),
    path("tickets/<int:pk>/finding/", views.finding_view, name="finding"),
]
