from django.contrib import admin
from django.urls import include, path

from kaoping.config.api import api

admin.site.site_header = "考评 Kaoping 管理后台"
admin.site.site_title = "考评 Kaoping"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("kaoping.web.urls")),
    path("org/", include("kaoping.org.urls")),
    path("calendar/", include("kaoping.workcal.urls")),
    path("evidence/", include("kaoping.evidence.urls")),
    path("cases/", include("kaoping.cases.urls")),
    path("ratings/", include("kaoping.ratings.urls")),
    path("reviews/", include("kaoping.reviews.urls")),
    path("r/", include("kaoping.ratings.public_urls")),
    path("followup/", include("kaoping.followup.urls")),
    path("assessment/", include("kaoping.assessment.urls")),
    path("targets/", include("kaoping.targets.urls")),
    path("hotline/", include("kaoping.hotline.urls")),
]
