from django.urls import path

from kaoping.assessment import calibration_views, views

app_name = "assessment"
urlpatterns = [
    path("", views.assessment_list_view, name="list"),
    path("run/", views.assessment_run_view, name="run"),
    path("<int:pk>/", views.assessment_detail_view, name="detail"),
    path("<int:pk>/publish/", views.assessment_publish_view, name="publish"),
    path("<int:pk>/export.xlsx", views.assessment_export_view, name="export"),
    path("<int:pk>/u/<str:unit_code>/", views.result_detail_view, name="result"),
    path("<int:pk>/u/<str:unit_code>/exemption/", views.exemption_view, name="exemption"),
    path("<int:pk>/u/<str:unit_code>/recheck/", views.recheck_request_view, name="recheck"),
    path("<int:pk>/u/<str:unit_code>/<str:indicator>/", views.line_records_view, name="records"),
    path("rechecks/<int:recheck_id>/decide/", views.recheck_decide_view, name="recheck_decide"),
    path("manual/", views.manual_entry_view, name="manual"),
    path("schemes/", views.scheme_list_view, name="schemes"),
    path("schemes/<int:pk>/", views.scheme_detail_view, name="scheme"),
    path("schemes/<int:pk>/yaml", views.scheme_yaml_view, name="scheme_yaml"),
    path("calibration/", calibration_views.calibration_view, name="calibration"),
    path("calibration/draft/", calibration_views.calibration_draft_view, name="calibration_draft"),
    path("calibration/remediation/", calibration_views.remediation_open_view, name="remediation_open"),
    path(
        "calibration/remediation/<int:pk>/close/",
        calibration_views.remediation_close_view,
        name="remediation_close",
    ),
]
