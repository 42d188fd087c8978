"""The Starlette application behind ``qbe serve``: its settings, its pages and their routes.

Pages are Jinja2 templates rendered on the server (``templates/``) with a
little plain JavaScript (``static/app.js``) for progress, sorting, filtering
and the explanation panel; there is no front-end build step.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ..errors import DataError, QbeError, UsageError
from . import runs, views
from .guard import BodyTooLarge, Guard, GuardSettings, is_loopback
from .i18n import status_word, word
from .sessions import SessionStore, Upload, display_name, safe_extension

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "qbe_session"
LANG_COOKIE = "qbe_lang"
#: report formats offered for download, in the order shown (each a writer plugin's format)
DOWNLOADS = (("xlsx", "Excel"), ("docx", "Word"), ("html", "HTML"), ("json", "JSON"))
MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "html": "text/html; charset=utf-8", "json": "application/json"}


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None
    max_upload_mb: float = 50.0
    session_minutes: float = 120.0
    sweep_seconds: float = 60.0

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 2**20)


class App:
    """State shared by the routes: settings, the plugin registry, sessions and templates."""

    def __init__(self, settings: Settings, reg=None) -> None:
        from ..plugins import registry

        self.settings = settings
        self.reg = reg or registry()
        self.store = SessionStore(ttl=settings.session_minutes * 60)
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        from ..default_plugins.writers.svg import SYMBOL

        self.templates.env.globals.update(w=word, status_word=status_word, badge=views.badge, downloads=DOWNLOADS, symbol=SYMBOL)
        self._catalogue: list[views.StandardCard] | None = None

    def catalogue(self) -> list[views.StandardCard]:
        if self._catalogue is None:
            self._catalogue = views.catalogue(self.reg)
        return self._catalogue

    # ------------------------------------------------------------------ helpers
    def lang(self, request: Request) -> str:
        q = request.query_params.get("lang")
        if q in ("zh", "en"):
            return q
        return "en" if request.cookies.get(LANG_COOKIE) == "en" else "zh"

    def session(self, request: Request):
        return self.store.get(request.cookies.get(SESSION_COOKIE))

    def page(self, request: Request, name: str, ctx: dict[str, Any], status: int = 200, session=None) -> Response:
        lang = self.lang(request)
        ctx = {"lang": lang, "request": request, **ctx}
        resp = self.templates.TemplateResponse(request, name, ctx, status_code=status)
        if request.query_params.get("lang") in ("zh", "en"):
            resp.set_cookie(LANG_COOKIE, lang, httponly=True, samesite="strict")
        if session is not None:
            resp.set_cookie(SESSION_COOKIE, session.id, httponly=True, samesite="strict")
        return resp

    def home(self, request: Request, error: str = "", status: int = 200, issues=None, form: dict | None = None) -> Response:
        return self.page(request, "home.html.j2", {"standards": self.catalogue(), "error": error, "issues": issues or [],
                                                    "mb": f"{self.settings.max_upload_mb:g}", "form": form or {}}, status)

    def not_found(self, request: Request) -> Response:
        return self.page(request, "message.html.j2", {"heading": word("not_found", self.lang(request)), "text": ""}, 404)

    def find_run(self, request: Request):
        s = self.session(request)
        if s is None:
            return None, None
        return s, s.runs.get(request.path_params["rid"])


def create_app(settings: Settings | None = None, reg=None) -> Guard:
    """The ASGI application, wrapped in its :class:`~qbe.web.guard.Guard`."""
    settings = settings or Settings()
    state = App(settings, reg)

    # ---------------------------------------------------------------- pages
    async def home(request: Request) -> Response:
        return state.home(request)

    async def start_run(request: Request) -> Response:
        lang = state.lang(request)
        try:
            form = await request.form(max_files=2, max_fields=20)
        except BodyTooLarge:
            return state.home(request, word("too_large", lang, mb=f"{settings.max_upload_mb:g}"), 413)
        try:
            return await _start(request, form, lang)
        finally:
            await form.close()  # the parser's spooled copies of the uploads

    async def _start(request: Request, form, lang: str) -> Response:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        std_id = fields.get("standard", "")
        try:
            info = views.resolve_installed(std_id, state.reg)
            year = _year(fields.get("year", ""))
        except QbeError as e:
            return state.home(request, e.render(lang), 400, form=fields)
        if fields.get("example"):
            schools_csv, counties_csv = info.example_dir / "schools.csv", info.example_dir / "counties.csv"
            if not schools_csv.is_file():
                return state.home(request, f"{std_id}: " + ("该标准没有附带示例数据" if lang == "zh" else "no bundled example data"),
                                  400, form=fields)
        s = state.session(request) or state.store.create()
        rid = secrets.token_hex(6)
        folder = s.folder / rid
        folder.mkdir()
        if fields.get("example"):
            tag = "（示例）" if lang == "zh" else " (example)"
            schools = Upload(schools_csv, "schools.csv" + tag)
            counties = Upload(counties_csv, "counties.csv" + tag) if counties_csv.is_file() else None
        else:
            try:
                schools = await _store(form.get("schools"), folder, "schools", settings, lang, required=True)
                counties = await _store(form.get("counties"), folder, "counties", settings, lang, required=False)
            except QbeError as e:
                shutil.rmtree(folder, ignore_errors=True)
                resp = state.home(request, e.render(lang), 413 if isinstance(e, TooLarge) else 400, form=fields)
                resp.set_cookie(SESSION_COOKIE, s.id, httponly=True, samesite="strict")
                return resp
        run = runs.Run(rid, info.id, info.path, schools, counties, year, lang, folder)
        s.runs[rid] = run
        runs.start(run, state.reg)
        resp = RedirectResponse(f"/runs/{rid}", status_code=303)
        resp.set_cookie(SESSION_COOKIE, s.id, httponly=True, samesite="strict")
        return resp

    async def show_run(request: Request) -> Response:
        s, run = state.find_run(request)
        if run is None:
            return state.not_found(request)
        lang = state.lang(request)
        ctx: dict[str, Any] = {"run": run}
        if run.state == "done":
            county = request.query_params.get("county") or None
            key = f"view:{lang}:{county}"
            if key not in run.cache:
                run.cache[key] = await run_in_threadpool(views.report_view, run, lang, county)
            ctx["view"] = run.cache[key]
            ctx["others"] = [c for c in state.catalogue() if not c.error]
            ctx["default_other"] = next((c.id for c in ctx["others"] if c.id != run.standard and not c.years), "")
        status = 422 if run.state == "data_error" else 200
        return state.page(request, "run.html.j2", ctx, status)

    async def run_status(request: Request) -> Response:
        _, run = state.find_run(request)
        if run is None:
            return JSONResponse({"state": "missing"}, status_code=404)
        return JSONResponse({"state": run.state, "elapsed": round(run.elapsed, 1)})

    async def download(request: Request) -> Response:
        _, run = state.find_run(request)
        fmt = request.path_params["fmt"]
        if run is None or run.state != "done" or fmt not in dict(DOWNLOADS) or fmt not in state.reg.writers:
            return state.not_found(request)
        lang = state.lang(request)
        path, why = await run_in_threadpool(runs.download, run, fmt, state.reg, lang)
        if path is None:
            return PlainTextResponse(why, status_code=500)
        return FileResponse(path, media_type=MEDIA[fmt], filename=path.name)

    async def explain(request: Request) -> Response:
        _, run = state.find_run(request)
        if run is None or run.state != "done":
            return PlainTextResponse("", status_code=404)
        lang = state.lang(request)
        school, county = request.query_params.get("school"), request.query_params.get("county")
        if not school and not county:
            return PlainTextResponse(word("not_found", lang), status_code=400)
        try:
            text = await run_in_threadpool(views.explanation, run, lang, school, county)
        except QbeError as e:
            return PlainTextResponse(e.render(lang), status_code=404)
        return PlainTextResponse(text)

    async def compare(request: Request) -> Response:
        _, run = state.find_run(request)
        if run is None or run.state != "done":
            return state.not_found(request)
        lang = state.lang(request)
        form = await request.form(max_files=0, max_fields=10)
        other = str(form.get("other", ""))
        std, _, y = other.partition("@")
        try:
            views.resolve_installed(std, state.reg)
            year = _year(y)
        except QbeError as e:
            return state.page(request, "message.html.j2", {"heading": word("failed", lang), "text": e.render(lang)}, 400)
        from ..compare import compare_reports, run_many

        mine = (str(run.path), run.result.evaluation.plan.year if run.year is None else run.year)
        theirs = (str(views.resolve_installed(std, state.reg).path), year)
        data, county = str(run.schools.path), str(run.counties.path) if run.counties else None
        try:
            labelled = await run_in_threadpool(run_many, [mine, theirs], data, county, state.reg)
            result = compare_reports(labelled)
        except DataError as e:
            issues = runs.issue_rows(e.issues, run.names())
            return state.page(request, "message.html.j2", {"heading": word("data_error", lang), "text": e.render(lang),
                                                           "issues": issues}, 422)
        except QbeError as e:
            return state.page(request, "message.html.j2", {"heading": word("failed", lang),
                                                           "text": runs.hide_paths(e.render(lang), run.names())}, 400)
        return state.page(request, "compare.html.j2", {"run": run, "cmp": views.compare_view(result, lang)})

    async def ruleset(request: Request) -> Response:
        return await _ruleset_page(request, None)

    async def check(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=5, max_part_size=settings.max_upload_bytes)
        return await _ruleset_page(request, str(form.get("text", "")))

    async def _ruleset_page(request: Request, edited: str | None) -> Response:
        from ..pipeline import load_model
        from ..versions import diff_text, show

        lang = state.lang(request)
        try:
            info = views.resolve_installed(request.path_params["sid"], state.reg)
        except QbeError:
            return state.not_found(request)
        original = info.path.read_text(encoding="utf-8")
        changes = ""
        try:
            model = await run_in_threadpool(load_model, str(info.path), state.reg)
            resolved = show(model)
            if model.standard.extends:
                parent = views.resolve_installed(model.standard.extends, state.reg)
                changes = diff_text(await run_in_threadpool(load_model, str(parent.path), state.reg), model)
        except QbeError as e:
            resolved = e.render(lang)
        ctx: dict[str, Any] = {"info": info, "source": views.listing(original), "resolved": resolved, "changes": changes,
                               "edited": original if edited is None else edited, "checked": edited is not None}
        session = None
        if edited is not None:
            session = state.session(request) or state.store.create()
            folder = session.folder / session.new_name("check")
            problems, rendered = await run_in_threadpool(views.check_text, info.id, edited, folder, state.reg, lang)
            marks: dict[int, list[str]] = {}
            for p in problems:
                if p.line is not None and p.file.startswith(info.path.name):
                    marks.setdefault(p.line, []).append(f"{p.severity}[{p.code}] {p.message}" + (f" — {p.hint}" if p.hint else ""))
            ctx.update(problems=problems, rendered=rendered, edited_listing=views.listing(edited, marks),
                       n_errors=sum(p.severity == "error" for p in problems),
                       n_warnings=sum(p.severity != "error" for p in problems))
        return state.page(request, "ruleset.html.j2", ctx, session=session)

    async def end(request: Request) -> Response:
        s = state.session(request)
        if s is not None:
            state.store.end(s.id)
        resp = state.page(request, "message.html.j2", {"heading": word("ended", state.lang(request)), "text": ""})
        resp.delete_cookie(SESSION_COOKIE)
        return resp

    async def report_css(request: Request) -> Response:
        from ..default_plugins.writers.html import TEMPLATES

        return FileResponse(TEMPLATES / "report.css", media_type="text/css")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async def sweep():
            while True:
                await asyncio.sleep(settings.sweep_seconds)
                state.store.sweep()

        task = asyncio.create_task(sweep())
        try:
            yield
        finally:
            task.cancel()
            state.store.close()

    routes = [
        Route("/", home),
        Route("/runs", start_run, methods=["POST"]),
        Route("/runs/{rid}", show_run),
        Route("/runs/{rid}/status", run_status),
        Route("/runs/{rid}/download/{fmt}", download),
        Route("/runs/{rid}/explain", explain),
        Route("/runs/{rid}/compare", compare, methods=["POST"]),
        Route("/standards/{sid}", ruleset),
        Route("/standards/{sid}/check", check, methods=["POST"]),
        Route("/end", end, methods=["POST"]),
        Route("/static/report.css", report_css),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    async def too_large(request: Request, exc: Exception) -> Response:
        return PlainTextResponse(word("too_large", state.lang(request), mb=f"{settings.max_upload_mb:g}"), status_code=413)

    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={BodyTooLarge: too_large})
    app.state.qbe = state
    guard = Guard(app, GuardSettings(token=settings.token, loopback=is_loopback(settings.host),
                                     max_body=2 * settings.max_upload_bytes + 2**20))
    guard.state = state  # type: ignore[attr-defined]
    return guard


class TooLarge(UsageError):
    """An uploaded file is over the size limit (HTTP 413)."""


def _year(text: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise UsageError(f"年份须为整数：{text}", f"a year must be a whole number: {text}")
    return int(text)


async def _store(part, folder: Path, stem: str, settings: Settings, lang: str, required: bool) -> Upload | None:
    """Save one uploaded file under a name the server chooses; the user's name is kept for display."""
    filename = getattr(part, "filename", None) or ""
    if not filename:
        if required:
            raise UsageError("请上传学校表，或勾选“使用示例数据”", "upload the school table, or tick 'use the example data'")
        return None
    ext = safe_extension(filename)
    if ext is None:
        raise UsageError(f"不能读取“{display_name(filename)}”：请上传 .xlsx、.csv 或 .json 文件",
                         f"cannot read '{display_name(filename)}': upload an .xlsx, .csv or .json file")
    limit = settings.max_upload_bytes
    if part.size is not None and part.size > limit:
        raise TooLarge(f"“{display_name(filename)}”过大（上限 {settings.max_upload_mb:g} MB）",
                         f"'{display_name(filename)}' is too large (limit {settings.max_upload_mb:g} MB)")
    path = folder / f"{stem}{ext}"
    size = 0
    with path.open("wb") as fh:
        while chunk := await part.read(1 << 20):
            size += len(chunk)
            if size > limit:
                fh.close()
                path.unlink(missing_ok=True)
                raise TooLarge(f"“{display_name(filename)}”过大（上限 {settings.max_upload_mb:g} MB）",
                                 f"'{display_name(filename)}' is too large (limit {settings.max_upload_mb:g} MB)")
            fh.write(chunk)
    return Upload(path, display_name(filename))

