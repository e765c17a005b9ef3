from django.urls import path

from kaoping.targets import views

app_name = "targets"
urlpatterns = [
    path("", views.table_list_view, name="table_list"),
    path("new/", views.table_new_view, name="table_new"),
    path("<int:table_id>/", views.table_detail_view, name="table_detail"),
    path("<int:table_id>/edit/", views.table_edit_view, name="table_edit"),
    path("<int:table_id>/action/", views.table_action_view, name="table_action"),
    path("tasks/", views.task_list_view, name="task_list"),
    path("tasks/new/", views.task_new_view, name="task_new"),
    path("tasks/<int:task_id>/", views.task_detail_view, name="task_detail"),
    path("tasks/<int:task_id>/submit/", views.task_submit_view, name="task_submit"),
    path("tasks/<int:task_id>/close/", views.task_close_view, name="task_close"),
    path("tasks/<int:task_id>/meeting/", views.meeting_record_view, name="meeting_record"),
]
