"""Walk a running WealthScore as its demo logins do, and list what is wrong (issue 15).

`walk_demo(base_url, password, logins)` signs in as each login on the login form (the CSRF
cookie and the form's token, as a browser does), opens every page of the login's top bar and
checks what it shows — not only that it answers 200 — and every script, stylesheet and image
those pages load from the server. Then it takes an API token (`POST /api/v1/auth/token/`)
and reads the role's main lists and exports. It returns the problems found, one string
each, "login: what: why"; an empty list is a clean walk.

It speaks plain HTTP (urllib), so it walks any server: the demo a test just built
(tests/wealthscore/test_demo_walk.py), or a production-settings gunicorn in CI
(WEALTHSCORE_WALK_URL). It never signs in with a wrong password: django-axes locks a login
out after 10 failures.
"""

from __future__ import annotations

import csv
import datetime as dt
import http.cookiejar
import io
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from tests.pages.html import Node, parse_html

TIME_ZONE = ZoneInfo("Asia/Shanghai")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Links of the top bar that are not pages to open: the admin site is walked on its own.
SKIP_LINKS = {"/admin/"}


# ---------------------------------------------------------------- HTTP
@dataclass
class Answer:
    status: int
    url: str  # after redirects
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self):
        return json.loads(self.body)


class _SecureCookiesOverLoopback(http.cookiejar.DefaultCookiePolicy):
    """Send Secure cookies over plain HTTP: for a server behind a TLS proxy that the walk
    stands in for (as_https), as the proxy would."""

    def return_ok_secure(self, cookie, request) -> bool:
        return True


class Http:
    """One client: its own cookie jar (a browser session) and, once given, an API token.

    `as_https` says "X-Forwarded-Proto: https" on every request, as the TLS proxy in front
    of a production server does (SECURE_PROXY_SSL_HEADER): the server then neither
    redirects to HTTPS nor withholds its Secure cookies, and checks the Referer as HTTPS."""

    def __init__(self, base_url: str, *, as_https: bool = False) -> None:
        self.base = base_url.rstrip("/")
        self.as_https = as_https
        policy = _SecureCookiesOverLoopback() if as_https else None
        self.cookies = http.cookiejar.CookieJar(policy)
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        self.token: str | None = None

    def referer(self, path: str) -> str:
        scheme = "https" if self.as_https else urllib.parse.urlsplit(self.base).scheme
        return f"{scheme}://{urllib.parse.urlsplit(self.base).netloc}{path}"

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base + path

    def request(
        self,
        method: str,
        path: str,
        *,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        headers = {"Accept-Language": "zh-hans", **(headers or {})}
        if self.as_https:
            headers["X-Forwarded-Proto"] = "https"
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        req = urllib.request.Request(self.url(path), data=data, method=method, headers=headers)
        try:
            with self.opener.open(req, timeout=120) as response:
                return Answer(
                    response.status,
                    response.geturl(),
                    {k.lower(): v for k, v in response.headers.items()},
                    response.read(),
                )
        except urllib.error.HTTPError as exc:
            return Answer(
                exc.code, exc.geturl(), {k.lower(): v for k, v in exc.headers.items()}, exc.read()
            )

    def get(self, path: str, **headers: str) -> Answer:
        return self.request("GET", path, headers=headers)

    def csrf_cookie(self) -> str:
        return next((c.value for c in self.cookies if c.name == "csrftoken"), "")


def _decimal(text: str | None) -> Decimal | None:
    try:
        return Decimal((text or "").replace(",", "").replace("¥", "").strip())
    except InvalidOperation:
        return None


def last_completed_quarter(today: dt.date | None = None) -> str:
    """The newest quarter that has ended (in Asia/Shanghai, the app's time zone)."""
    today = today or dt.datetime.now(TIME_ZONE).date()
    quarter = (today.month - 1) // 3 + 1
    if quarter == 1:
        return f"{today.year - 1}-Q4"
    return f"{today.year}-Q{quarter - 1}"


# ---------------------------------------------------------------- the walk
@dataclass
class Walk:
    base_url: str
    password: str
    as_https: bool = False
    quarter: str = field(default_factory=last_completed_quarter)
    problems: list[str] = field(default_factory=list)
    assets_seen: dict[str, int] = field(default_factory=dict)
    pages_seen: int = 0

    @property
    def year(self) -> str:
        return self.quarter[:4]

    def problem(self, login: str, where: str, why: str) -> None:
        self.problems.append(f"{login}: {where}: {why}")

    # -- pages --------------------------------------------------------------------------
    def sign_in(self, login: str) -> Http | None:
        browser = Http(self.base_url, as_https=self.as_https)
        form = browser.get("/login/")
        if form.status != 200:
            self.problem(login, "GET /login/", f"answered {form.status}")
            return None
        token_input = parse_html(form.text).first("input", name="csrfmiddlewaretoken")
        if token_input is None or not browser.csrf_cookie():
            self.problem(login, "/login/", "no CSRF cookie or csrfmiddlewaretoken in the form")
            return None
        fields = {
            "username": login,
            "password": self.password,
            "csrfmiddlewaretoken": token_input.attrs.get("value") or "",
        }
        answer = browser.request(
            "POST",
            "/login/",
            data=urllib.parse.urlencode(fields).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": browser.referer("/login/"),
            },
        )
        if answer.status != 200 or urllib.parse.urlsplit(answer.url).path != "/":
            # Not tried again: a wrong password counts toward the axes lockout.
            self.problem(login, "POST /login/", f"did not sign in ({answer.status} {answer.url})")
            return None
        return browser

    def open_page(self, login: str, browser: Http, path: str) -> Node | None:
        answer = browser.get(path)
        self.pages_seen += 1
        if answer.status != 200:
            self.problem(login, f"GET {path}", f"answered {answer.status}")
            return None
        if not answer.content_type.startswith("text/html"):
            self.problem(login, f"GET {path}", f"is {answer.content_type}, not HTML")
            return None
        if urllib.parse.urlsplit(answer.url).path == "/login/":
            self.problem(login, f"GET {path}", "sent back to the login page")
            return None
        doc = parse_html(answer.text)
        self.check_assets(login, browser, path, doc)
        return doc

    def check_assets(self, login: str, browser: Http, path: str, doc: Node) -> None:
        """Every script, stylesheet, icon and image the page loads from this server."""
        host = urllib.parse.urlsplit(self.base_url).netloc
        refs = [n.attrs.get("src") for n in doc.select("script", src=None)]
        refs += [n.attrs.get("href") for n in doc.select("link", href=None)]
        refs += [n.attrs.get("src") for n in doc.select("img", src=None)]
        for ref in refs:
            if not ref or ref.startswith(("data:", "blob:")):
                continue
            absolute = urllib.parse.urljoin(self.base_url + path, ref)
            if urllib.parse.urlsplit(absolute).netloc != host:
                self.problem(login, path, f"loads {ref} from another host")
                continue
            if absolute not in self.assets_seen:
                answer = browser.get(absolute)
                self.assets_seen[absolute] = answer.status
                if answer.status == 200 and not answer.body:
                    self.problem(login, path, f"asset {ref} is empty")
            if self.assets_seen[absolute] != 200:
                self.problem(login, path, f"asset {ref} answered {self.assets_seen[absolute]}")

    def nav_links(self, login: str, doc: Node) -> list[str]:
        """The top bar's pages (nav.pages) and the user's own (nav.user: change password)."""
        links: list[str] = []
        for nav in doc.select("nav"):
            links += [a.attrs["href"] for a in nav.select("a", href=None) if a.attrs["href"]]
        if not links:
            self.problem(login, "/", "no navigation links")
        return list(dict.fromkeys(links))

    # -- the API ------------------------------------------------------------------------
    def api_sign_in(self, login: str) -> Http | None:
        client = Http(self.base_url, as_https=self.as_https)
        body = json.dumps({"username": login, "password": self.password}).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        for _attempt in range(3):
            answer = client.request("POST", "/api/v1/auth/token/", data=body, headers=headers)
            if answer.status != 429:
                break
            # The token endpoint is rate-limited per address (20/min); wait, never guess.
            time.sleep(min(int(answer.headers.get("retry-after", "5") or 5), 65))
        if answer.status != 200 or "token" not in answer.json():
            self.problem(login, "POST /api/v1/auth/token/", f"answered {answer.status}")
            return None
        client.token = answer.json()["token"]
        return client

    def api_json(self, login: str, client: Http, path: str):
        answer = client.get(path, Accept="application/json")
        if answer.status != 200 or not answer.content_type.startswith("application/json"):
            self.problem(login, f"GET {path}", f"answered {answer.status} {answer.content_type}")
            return None
        return answer.json()

    def api_all(self, login: str, client: Http, path: str) -> list[dict] | None:
        """Every row of a paged list, following `next`."""
        rows: list[dict] = []
        url: str | None = path
        while url:
            data = self.api_json(login, client, url)
            if data is None:
                return None
            if isinstance(data, list):
                return data
            rows += data.get("results", [])
            url = data.get("next")
        return rows

    def api_file(self, login: str, client: Http, path: str, kind: str) -> list[list[str]] | None:
        """The rows of an XLSX or CSV export, as text cells."""
        answer = client.get(path)
        if answer.status != 200:
            self.problem(login, f"GET {path}", f"answered {answer.status}")
            return None
        try:
            if kind == "xlsx":
                import openpyxl

                if XLSX_TYPE not in answer.content_type:
                    self.problem(login, f"GET {path}", f"is {answer.content_type}, not XLSX")
                book = openpyxl.load_workbook(io.BytesIO(answer.body), read_only=True)
                sheet = book.worksheets[0]
                return [
                    ["" if v is None else str(v) for v in row]
                    for row in sheet.iter_rows(values_only=True)
                ]
            return list(csv.reader(io.StringIO(answer.body.decode("utf-8-sig"))))
        except Exception as exc:  # noqa: BLE001 - any unreadable file is the problem reported
            self.problem(login, f"GET {path}", f"does not open as {kind}: {exc!r}")
            return None

    def file_holds(self, login: str, where: str, rows: list[list[str]] | None, ids: set[str]):
        if rows is None:
            return
        cells = {cell.strip() for row in rows for cell in row}
        missing = ids - cells
        if not ids:
            self.problem(login, where, "nothing to look for (no rows on the page or the API)")
        elif missing:
            self.problem(login, where, f"lacks {len(missing)} of {len(ids)} IDs, e.g. "
                                       f"{sorted(missing)[:3]}")  # fmt: skip

    # -- one login ----------------------------------------------------------------------
    def walk_login(self, login: str) -> None:
        client = self.api_sign_in(login)
        me = self.api_json(login, client, "/api/v1/me/") if client else None
        if me is not None and me.get("username") != login:
            self.problem(login, "GET /api/v1/me/", f"is {me.get('username')!r}")
        role = (me or {}).get("role", "")
        employee_id = ((me or {}).get("employee") or {}).get("employee_id", "")

        browser = self.sign_in(login)
        if browser is not None:
            home = self.open_page(login, browser, "/")
            links = self.nav_links(login, home) if home is not None else []
            for link in links:
                if link in SKIP_LINKS or not link.startswith("/"):
                    continue
                doc = self.open_page(login, browser, link)
                if doc is not None:
                    self.check_page(login, role, employee_id, browser, client, link, doc)
            if "/admin/" in links:
                self.walk_admin(login, browser)
        if client is not None:
            self.check_api(login, role, employee_id, client)
            answer = client.request("DELETE", "/api/v1/auth/token/")
            if answer.status not in (200, 204):
                self.problem(login, "DELETE /api/v1/auth/token/", f"answered {answer.status}")
        if browser is not None:
            # Last: signing out of the pages revokes every API token of the login.
            self.sign_out(login, browser)

    def sign_out(self, login: str, browser: Http) -> None:
        answer = browser.request(
            "POST",
            "/logout/",
            data=urllib.parse.urlencode({"csrfmiddlewaretoken": browser.csrf_cookie()}).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": browser.referer("/"),
            },
        )
        if answer.status != 200:
            self.problem(login, "POST /logout/", f"answered {answer.status}")

    # -- what each page must show -------------------------------------------------------
    def check_page(self, login, role, employee_id, browser, client, link, doc) -> None:
        path = urllib.parse.urlsplit(link).path
        check = {
            "/me/": self.check_me,
            "/team/": self.check_team,
            "/hr/pay/": self.check_pay,
            "/compliance/": self.check_compliance,
            "/schemes/": self.check_schemes,
            "/imports/": self.check_imports,
            "/audit/": self.check_audit,
            "/runs/": self.check_runs,
            "/inquiries/": self.check_inquiries,
            "/password/": self.check_password,
        }.get(path)
        if check is None:
            self.problem(login, link, "a page the walker has no check for (add one)")
            return
        check(login=login, role=role, employee_id=employee_id, browser=browser, client=client,
              doc=doc)  # fmt: skip

    def check_me(self, *, login, employee_id, browser, client, doc, **_) -> None:
        if not employee_id or employee_id not in doc.text:
            self.problem(login, "/me/", f"does not show her employee ID {employee_id!r}")
        total = doc.first(data_testid="card-total")
        if total is None or _decimal(total.text) is None:
            self.problem(login, "/me/", "shows no total")
        # The completed quarter's card: the same total as the API's.
        path = f"/me/?period={self.quarter}"
        card = self.open_page(login, browser, path)
        if card is None:
            return
        period = card.first(data_testid="card-period")
        total = card.first(data_testid="card-total")
        if period is None or period.text != self.quarter:
            self.problem(login, path, f"shows period {period.text if period else None!r}")
        api = self.api_json(login, client, f"/api/v1/scorecards/?period={self.quarter}")
        if api is None or total is None:
            self.problem(login, path, "no total, or no API card to compare it with")
            return
        mine = [c for c in api["results"] if c["employee"]["employee_id"] == employee_id]
        if len(mine) != 1 or api["count"] != 1:
            self.problem(login, "/api/v1/scorecards/", f"lists {api['count']} cards, not hers")
        elif _decimal(total.text) != _decimal(mine[0]["total"]):
            self.problem(login, path, f"total {total.text} is not the API's {mine[0]['total']}")
        # A line's "why" (the facts behind it) answers.
        why = card.first(**{"hx-get": None})
        if why is None:
            self.problem(login, path, "no line offers its facts")
        else:
            answer = browser.get(why.attrs["hx-get"], **{"HX-Request": "true"})
            if answer.status != 200 or not answer.body.strip():
                self.problem(login, why.attrs["hx-get"], f"answered {answer.status}")

    def check_team(self, *, login, role, browser, client, **_) -> None:
        path = f"/team/?period={self.quarter}"
        doc = self.open_page(login, browser, path)
        if doc is None:
            return
        table = doc.first("table", data_testid="team-table")
        ids = {tr.attrs["data-employee-id"] for tr in (table.select("tr", data_employee_id=None)
                                                       if table else [])}  # fmt: skip
        if not ids:
            self.problem(login, path, "lists no RM")
            return
        if role == "manager":
            cards = self.api_all(login, client, f"/api/v1/scorecards/?period={self.quarter}")
            if cards is not None and ids != {c["employee"]["employee_id"] for c in cards}:
                self.problem(login, path, f"lists {len(ids)} RMs; the API {len(cards)} cards")
        for tr in table.select("tr", data_employee_id=None):
            cell = tr.first(data_field="total")
            if cell is not None and _decimal(cell.attrs.get("data-value")) is not None:
                break
        else:
            self.problem(login, path, "no RM has a total")

    def check_pay(self, *, login, browser, **_) -> None:
        path = f"/hr/pay/?period={self.quarter}"
        doc = self.open_page(login, browser, path)
        if doc is None:
            return
        missing = doc.first(data_testid="missing-config")
        if missing is not None:
            self.problem(login, path, f"configuration missing: {missing.text[:120]}")
        table = doc.first("table", data_testid="pay-table")
        rows = table.select("tr", data_employee_id=None) if table else []
        if not rows:
            self.problem(login, path, "shows no pay rows")
            return
        adjusted = [
            _decimal(cell.attrs.get("data-value"))
            for tr in rows
            for cell in tr.select(data_field="adjusted_pay")
        ]
        if not any(value is not None and value > 0 for value in adjusted):
            self.problem(login, path, "no row has an adjusted pay")
        talent = doc.first("table", data_testid="talent-table")
        if talent is None or not talent.select("tr", data_employee_id=None):
            self.problem(login, path, "shows no talent list")
        ids = {tr.attrs["data-employee-id"] for tr in rows}
        export = doc.first("a", data_testid="export-xlsx")
        if export is None:
            self.problem(login, path, "offers no XLSX export")
        else:
            href = export.attrs["href"]
            self.file_holds(login, href, self.api_file(login, browser, href, "xlsx"), ids)

    def check_compliance(self, *, login, role, doc, **_) -> None:
        board = doc.first(data_testid="board")
        if board is None:
            self.problem(login, "/compliance/", "shows no warning board")
            return
        open_count = board.first(data_testid="board-open")
        count = int(open_count.attrs.get("data-count") or -1) if open_count else -1
        # The demo's imports raise T+1 warnings all over the bank; a manager sees her own.
        if count < (1 if role in ("compliance", "admin") else 0):
            self.problem(login, "/compliance/", f"the board counts {count} open cases")
        if role in ("compliance", "admin") and not doc.first(data_testid="incident-form"):
            self.problem(login, "/compliance/", "offers no incident entry")

    def check_schemes(self, *, login, doc, **_) -> None:
        history = doc.first("table", data_testid="version-history")
        if history is None or not history.select("tbody") or not doc.first(data_testid="in-force"):
            self.problem(login, "/schemes/", "shows no version history or no version in force")
        periods = doc.first("table", data_testid="periods")
        if periods is None or self.quarter not in periods.text:
            self.problem(login, "/schemes/", f"does not list period {self.quarter}")

    def check_imports(self, *, login, doc, **_) -> None:
        history = doc.first("table", data_testid="batch-history")
        rows = [tr for tr in history.select("tr") if tr.select("td")] if history else []
        if not rows:
            self.problem(login, "/imports/", "shows no import batch")
        if doc.first("form", data_testid="upload-form") is None:
            self.problem(login, "/imports/", "offers no upload")

    def check_audit(self, *, login, doc, **_) -> None:
        table = doc.first("table", data_testid="audit-table")
        rows = [tr for tr in table.select("tr") if tr.select("td")] if table else []
        if not rows:
            self.problem(login, "/audit/", "shows no audit entry")

    def check_runs(self, *, login, doc, **_) -> None:
        table = doc.first("table", data_testid="runs")
        rows = table.select("tr", data_kind="score_run") if table else []
        if not rows:
            self.problem(login, "/runs/", "shows no score run")
        failed = [tr for tr in rows if tr.attrs.get("data-status") == "failed"]
        if failed:  # the demo's own recomputes never fail
            self.problem(login, "/runs/", f"shows {len(failed)} failed score run(s)")

    def check_inquiries(self, *, login, doc, **_) -> None:
        # The demo raises no inquiry: the page shows its (empty) table and its filter.
        if doc.first("table", data_testid="inquiries") is None:
            self.problem(login, "/inquiries/", "shows no inquiries table")

    def check_password(self, *, login, doc, **_) -> None:
        if doc.first("input", name="new_password1") is None:
            self.problem(login, "/password/", "shows no password form")

    # -- the admin site -----------------------------------------------------------------
    def walk_admin(self, login: str, browser: Http) -> None:
        """The admin site's index and every list it links to; the configuration rows a
        fresh bank needs are there (pay policy, distribution profiles, incident types)."""
        index = self.open_page(login, browser, "/admin/")
        if index is None:
            return
        lists = sorted(
            {
                a.attrs["href"]
                for a in index.select("a", href=None)
                if a.attrs["href"].startswith("/admin/")
                and a.attrs["href"].count("/") == 4  # /admin/<app>/<model>/
            }
        )
        if not lists:
            self.problem(login, "/admin/", "links to no model")
        for path in lists:
            self.open_page(login, browser, path)
        # (Distribution profiles are not in the admin site: check_api counts them.)
        for path in ("/admin/scorecards/paypolicy/", "/admin/compliance/incidenttype/"):
            doc = self.open_page(login, browser, path) if path in lists else None
            table = doc.first("table", id="result_list") if doc is not None else None
            if doc is not None and (table is None or not table.select("tbody")[0].select("tr")):
                self.problem(login, path, "lists no row (the defaults are missing)")
            elif doc is None and path not in lists:
                self.problem(login, path, "is not in the admin site's index")

    # -- each role's main API lists and exports -----------------------------------------
    def check_api(self, login: str, role: str, employee_id: str, client: Http) -> None:
        quarter = self.quarter
        periods = self.api_all(login, client, "/api/v1/periods/")
        if periods is not None and quarter not in {p["code"] for p in periods}:
            self.problem(login, "/api/v1/periods/", f"lacks {quarter}")
        cards = self.api_all(login, client, f"/api/v1/scorecards/?period={quarter}")
        if cards is not None:
            ids = {c["employee"]["employee_id"] for c in cards}
            if role == "rm" and ids != {employee_id}:
                self.problem(login, "/api/v1/scorecards/", f"lists {sorted(ids)[:3]}, not hers")
            if role in ("manager", "admin") and not ids:
                self.problem(login, "/api/v1/scorecards/", f"lists no card of {quarter}")
            if cards and not cards[0].get("lines"):
                self.problem(login, "/api/v1/scorecards/", "a card without lines")
        if role in ("hr", "admin"):
            self.check_pay_api(login, client)
        if role in ("compliance", "admin", "manager"):
            board = self.api_json(login, client, "/api/v1/compliance/board/")
            if board is not None and "open" not in board:
                self.problem(login, "/api/v1/compliance/board/", "has no open count")
            self.api_all(login, client, "/api/v1/compliance/incidents/")
        if role in ("compliance", "admin"):
            audit = self.api_json(login, client, "/api/v1/audit/")
            if audit is not None and not audit.get("results"):
                self.problem(login, "/api/v1/audit/", "is empty")
        if role in ("hr", "admin"):
            batches = self.api_json(login, client, "/api/v1/imports/")
            if batches is not None and not batches.get("results"):
                self.problem(login, "/api/v1/imports/", "lists no batch")
        if role == "admin":
            for path, least in (("/api/v1/schemes/", 1), ("/api/v1/distribution-profiles/", 2),
                                ("/api/v1/org-units/", 1), ("/api/v1/employees/", 1)):  # fmt: skip
                rows = self.api_all(login, client, path)
                if rows is not None and len(rows) < least:
                    self.problem(login, path, f"lists {len(rows)} rows, fewer than {least}")

    def check_pay_api(self, login: str, client: Http) -> None:
        quarter, year = self.quarter, self.year
        pay = self.api_all(login, client, f"/api/v1/pay-adjustments/?period={quarter}")
        if pay is not None:
            if not pay:
                self.problem(login, "/api/v1/pay-adjustments/", f"lists no row of {quarter}")
            elif not any(row.get("adjusted_pay") for row in pay):
                self.problem(login, "/api/v1/pay-adjustments/", "no row has an adjusted pay")
            ids = {row["employee_id"] for row in pay}
            for kind in ("xlsx", "csv"):
                path = f"/api/v1/pay-adjustments/export/?period={quarter}&format={kind}"
                self.file_holds(login, path, self.api_file(login, client, path, kind), ids)
        talent = self.api_all(login, client, f"/api/v1/talent-lists/?year={year}")
        if talent is not None:
            if not talent:
                self.problem(login, "/api/v1/talent-lists/", f"lists no one for {year}")
            path = f"/api/v1/talent-lists/export/?year={year}&format=xlsx"
            self.file_holds(login, path, self.api_file(login, client, path, "xlsx"),
                            {row["employee_id"] for row in talent})  # fmt: skip


def walk_demo(
    base_url: str,
    password: str,
    logins: list[str],
    *,
    as_https: bool = False,
    stats: dict[str, int] | None = None,
) -> list[str]:
    """Walk the server as each login; the problems found (empty: all is well).

    `as_https`: the server runs with production settings behind a TLS proxy (see Http).
    `stats`, when given, receives how many pages and assets were opened."""
    walk = Walk(base_url, password, as_https=as_https)
    if not logins:
        return ["no login to walk"]
    for login in logins:
        walk.walk_login(login)
    if walk.pages_seen == 0:
        walk.problems.append("no page was opened")
    if stats is not None:
        stats.update(logins=len(logins), pages=walk.pages_seen, assets=len(walk.assets_seen))
    return walk.problems
