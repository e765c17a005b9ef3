"""The HTTP API (OpenAPI at /api/docs): one Ninja router per domain app."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI

from kaoping.assessment.api import router as assessment_router
from kaoping.cases.api import router as cases_router
from kaoping.catalog.api import router as catalog_router
from kaoping.core.auth import API_AUTH
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.evidence.api import router as evidence_router
from kaoping.hotline.api import router as hotline_router
from kaoping.org.api import router as org_router
from kaoping.ratings.api import router as ratings_router
from kaoping.reviews.api import router as reviews_router
from kaoping.workcal.api import router as calendar_router

api = NinjaAPI(title="Kaoping 考评 API", version="1", auth=API_AUTH, urls_namespace="api")

_STATUS = {ErrorCode.NOT_FOUND: 404, ErrorCode.FORBIDDEN: 403}


@api.exception_handler(KaopingError)
def kaoping_error(request: HttpRequest, exc: KaopingError) -> HttpResponse:
    return api.create_response(request, {"error": exc.as_dict()}, status=_STATUS.get(exc.code, 400))


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    """A 404 from a selector (out of scope or absent: the same answer) in the same shape as every
    other refusal."""
    error = KaopingError(ErrorCode.NOT_FOUND, what=str(exc) or "object", where=request.path, why="not found")
    return api.create_response(request, {"error": error.as_dict()}, status=404)


api.add_router("/org", org_router)
api.add_router("/catalog", catalog_router)
api.add_router("/cases", cases_router)
api.add_router("/ratings", ratings_router)
api.add_router("/reviews", reviews_router)
api.add_router("/calendar", calendar_router)
api.add_router("/evidence", evidence_router)
api.add_router("/assessments", assessment_router)
api.add_router("/hotline", hotline_router)
