"""HTTP API: a thin FastAPI layer over `QAService`.

The index and model load once, at start-up. If the index is missing, stale or corrupt the
server still starts, `/health` says what is wrong and how to fix it, and queries get a 503
with the same message, rather than answers from an index that no longer matches the report.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from pathlib import Path

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from rag.config import Settings
from rag.index import IndexUnavailable
from rag.service import FootnoteDetail, NotFound, QAService, QueryResult, QuestionError, SourceDetail, SourceSummary

log = logging.getLogger("rag.api")
STATIC = Path(__file__).parent / "static"
QUESTION_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*[^\W_][^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$"


def _json_integer(value: Any) -> Any:
    """JSON Schema's integer admits 7.0; `true` or "5" is a client's mistake to report, not to read as 1 or 5."""
    if isinstance(value, (bool, str)):
        raise ValueError(f"must be a JSON integer, not {'a boolean' if isinstance(value, bool) else 'a string'}")
    return value


def _count(low: int, high: int) -> Any:
    return Annotated[int, Field(ge=low, le=high), BeforeValidator(_json_integer)]


class QueryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(
        description="A question about the report: at least one letter or digit, no control characters",
        # Documented in the schema; enforced by `check_question`, whose messages say what to fix.
        json_schema_extra={"minLength": 1, "maxLength": 2000, "pattern": QUESTION_PATTERN},
    )
    k: _count(1, 50) = Field(5, description="How many passages to return")
    mode: Literal["hybrid", "dense", "keyword"] | None = Field(None, description="Retrieval mode; default hybrid")
    max_tokens: _count(1, 8192) | None = Field(None, description="Return only the passages that fit this many cl100k tokens, and a ready `context` string")


class ErrorBody(BaseModel):
    error: str


ERRORS = {
    400: {"model": ErrorBody, "description": "The body could not be read (e.g. not UTF-8)"},
    413: {"model": ErrorBody, "description": "The body is over the size limit"},
    422: {"model": ErrorBody, "description": "A parameter is missing or invalid; the message says which"},
    503: {"model": ErrorBody, "description": "The index is missing, stale or corrupt; the message says how to rebuild it"},
}
QUERY_ERRORS = {422: ERRORS[422], 503: ERRORS[503]}
NOT_FOUND = {404: {"model": ErrorBody, "description": "No such document, footnote or source; the message says what exists"}}


def takes(*names: str) -> list:
    """The query parameters a route takes, any other refused: FastAPI ignores the ones it does not know, so
    `/sources?text=Reuters` (for `q=`) listed every source, as though none had matched the filter."""

    def check(request: Request) -> None:
        if unknown := sorted(set(request.query_params) - set(names)):
            takes = ", ".join(names) or ("its parameters in the JSON body" if request.method == "POST" else "no query parameters")
            raise RequestValidationError(
                [{"type": "extra_forbidden", "loc": ("query", u), "msg": f"unknown query parameter; {request.url.path} takes {takes}"} for u in unknown]
            )

    return [Depends(check)]


def create_app(settings: Settings | None = None, service: QAService | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    state: dict[str, Any] = {"service": service, "error": None}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if state["service"] is None:
            try:
                state["service"] = QAService.open(settings)
            except IndexUnavailable as err:  # the verifier's VerifierUnavailable too
                state["error"] = err
                log.error("service unavailable: %s", err)
        yield

    app = FastAPI(
        title="Central Asia repatriation report: cited question answering",
        description="Ask questions about the June 2021 report; every passage comes with the report's own footnotes.",
        version="0.1.0",
        lifespan=lifespan,
    )

    if settings.cors_origins.strip():
        from fastapi.middleware.cors import CORSMiddleware

        origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"], allow_headers=["Content-Type"])

    def current() -> QAService:
        if state["service"] is None:
            raise state["error"] or IndexUnavailable("the index is not loaded")
        return state["service"]  # type: ignore[return-value]

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        size = request.headers.get("content-length")
        if size is not None and size.isdigit() and int(size) > settings.max_body_bytes:
            return JSONResponse({"error": f"request body is {size} bytes; the limit is {settings.max_body_bytes}"}, status_code=413)
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        detail = jsonable(exc.errors())
        return JSONResponse({"error": "; ".join(map(explain, detail)), "detail": detail}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(QuestionError)
    async def question_error(request: Request, exc: QuestionError):
        return JSONResponse({"error": str(exc)}, status_code=422)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound):
        return JSONResponse({"error": str(exc)}, status_code=404)

    @app.exception_handler(IndexUnavailable)
    async def index_error(request: Request, exc: IndexUnavailable):
        return JSONResponse({"error": str(exc)}, status_code=503)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        """The web page: one HTML file and its script, served by this app (no CDN, works offline)."""
        return FileResponse(STATIC / "index.html")

    @app.post("/query", response_model=QueryResult, responses=ERRORS, dependencies=takes())
    def query(body: QueryRequest) -> QueryResult:
        """The passages that best answer the question, each with its footnotes."""
        result = current().ask(body.question, body.k, body.mode, body.max_tokens)
        log.info("query %r k=%d mode=%s %.1f ms", body.question[:200], body.k, result.mode, result.timing_ms)
        return result

    @app.get("/footnotes/{doc}/{number}", response_model=FootnoteDetail, responses={**NOT_FOUND, **QUERY_ERRORS}, dependencies=takes())
    def footnote(doc: str, number: int, request: Request, response: Response):
        """A footnote: its text, how it resolves (Ibid. chains followed), its sources, and every passage citing it.

        A browser (asking for HTML) gets the web page, which shows the same; `Vary: Accept`
        keeps caches from serving one in place of the other.
        """
        accept = request.headers.get("accept", "")
        if "text/html" in accept and "application/json" not in accept:
            return FileResponse(STATIC / "index.html", headers={"Vary": "Accept"})
        response.headers["Vary"] = "Accept"
        return current().footnote(doc, number)

    @app.get("/sources", response_model=list[SourceSummary], responses={**NOT_FOUND, **QUERY_ERRORS}, dependencies=takes("author", "q", "doc"))
    def sources(author: str | None = None, q: str | None = None, doc: str | None = None) -> list[SourceSummary]:
        """Every distinct source with how many footnotes and passages cite it; `author` matches names fuzzily, `q` title words."""
        return current().sources(author=author, text=q, doc=doc)

    @app.get("/sources/{source_id}", response_model=SourceDetail, responses={**NOT_FOUND, **QUERY_ERRORS}, dependencies=takes("doc"))
    def source(source_id: str, doc: str | None = None) -> SourceDetail:
        """A source and the passages that rest on it."""
        return current().source(source_id, doc)

    @app.get("/health", responses={422: ERRORS[422], 503: {"model": ErrorBody, "description": "No usable index; the message says why"}},
             dependencies=takes())
    def health():
        """Whether the index is loaded and what it holds."""
        if state["service"] is None:
            return JSONResponse({"status": "unavailable", "index_loaded": False, "error": str(state["error"])}, status_code=503)
        return current().health()

    return app


def jsonable(errors: list) -> list:
    """Pydantic's error records in the shape the OpenAPI schema promises (loc a list, no raw objects), without
    the input: echoing a 2,000-character question back helps no one, and a NaN or a lone surrogate in it
    cannot be written as JSON at all."""
    return [
        {"type": e.get("type"), "loc": [x if isinstance(x, int) else _printable(str(x)) for x in e.get("loc", ())],
         "msg": _printable(str(e.get("msg", "invalid"))), **({"reason": _printable(str(e["ctx"]["error"]))} if "error" in e.get("ctx", {}) else {})}
        for e in errors
    ]


def explain(error: dict) -> str:
    """One error as the client can act on it: where, and what to change."""
    if error["type"] == "json_invalid":
        return f"the body is not valid JSON: {error.get('reason', error['msg'])} (at character {error['loc'][-1]})"
    where = ".".join(str(x) for x in error["loc"] if x not in ("body", "path", "query"))
    if not where and error["type"] in ("model_attributes_type", "dict_type"):
        return 'the body must be a JSON object such as {"question": "..."}, sent with content-type application/json'
    return f"{where or 'body'}: {error['msg']}"


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
