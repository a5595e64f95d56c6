"""A realistic, seeded set of the bank's export files (`make_sample_exports`, the demo).

The files are the ones the CRM, HR and compliance systems drop in the inbox, in the formats
of CONTRACT.md with the Chinese headers the bank's exports carry. The same seed always gives
the same files, byte for byte. Rows are generated column-wise with numpy so that a bank of
thousands of RMs is written in seconds.

Only complete months are written: a month that has not ended yet (today in Asia/Shanghai)
would hold future dates, which every import rightly refuses.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from django.utils import timezone

from wealthscore.kernel.catalog import MANUAL_MEASURE_CODES
from wealthscore.kernel.periods import Period, quarters_of

from .kinds import KINDS, Column

BRANCH_DISTRICTS = {
    "北京": ("朝阳", "海淀", "西城", "东城", "丰台", "通州"),
    "上海": ("浦东", "静安", "徐汇", "黄浦", "长宁", "闵行"),
    "深圳": ("福田", "南山", "罗湖", "宝安", "龙岗", "前海"),
    "广州": ("天河", "越秀", "海珠", "番禺", "白云", "黄埔"),
    "杭州": ("西湖", "滨江", "上城", "拱墅", "萧山", "余杭"),
    "南京": ("鼓楼", "玄武", "秦淮", "建邺", "江宁", "浦口"),
    "成都": ("锦江", "武侯", "青羊", "金牛", "成华", "高新"),
    "武汉": ("江汉", "江岸", "武昌", "洪山", "汉阳", "光谷"),
    "西安": ("雁塔", "碑林", "莲湖", "新城", "未央", "曲江"),
}
BRANCH_CITIES = tuple(BRANCH_DISTRICTS)
SURNAMES = tuple("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘")
GIVEN = tuple("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红兰建国文辉力春晓雪梅琳")
CATEGORIES = ("deposit", "wealth", "fund", "insurance", "trust", "private_fund", "bond")
# Relative share of clients holding each category, and a typical balance (元) in it.
CATEGORY_REACH = np.array([1.0, 0.55, 0.35, 0.25, 0.06, 0.04, 0.15])
CATEGORY_SCALE = np.array([150_000, 300_000, 180_000, 120_000, 3_000_000, 2_000_000, 250_000])
TARGET_MEASURES = ("sales_attainment", "aum_net_growth", "fee_income", "strategic_sales")
SUFFIX = {"utf-8": "csv", "gb18030": "csv", "xlsx": "xlsx"}


@dataclass
class Bank:
    """The org chart and staff the other files refer to."""

    units: pd.DataFrame  # unit_code, unit_name, parent_code, level
    staff: pd.DataFrame  # employee_id, name, unit_code, position, hire_date, status, …
    rm_ids: np.ndarray
    rm_units: np.ndarray
    files: list[Path] = field(default_factory=list)


def _names(rng: np.random.Generator, count: int) -> np.ndarray:
    surname = rng.choice(SURNAMES, count)
    first = rng.choice(GIVEN, count)
    second = rng.choice(GIVEN, count)
    two_character = rng.random(count) < 0.3
    return np.where(two_character, np.char.add(surname, first),
                    np.char.add(np.char.add(surname, first), second))  # fmt: skip


def _money(cents: np.ndarray) -> np.ndarray:
    """Integer fen -> '1234.50' strings (never a float on the way)."""
    cents = np.asarray(cents, dtype=np.int64)
    sign = np.where(cents < 0, "-", "")
    whole = np.char.mod("%d", np.abs(cents) // 100)
    fen = np.char.zfill(np.char.mod("%d", np.abs(cents) % 100), 2)
    return np.char.add(np.char.add(sign, whole), np.char.add(".", fen))


def _serials(prefix: str, count: int, width: int) -> np.ndarray:
    """'T202610' + 00000001…: the ids a source system numbers its rows with."""
    if count == 0:
        return np.array([], dtype=str)
    return np.char.add(prefix, np.char.zfill(np.char.mod("%d", np.arange(1, count + 1)), width))


def _dates(days: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(days.astype("datetime64[D]"), unit="D")


def complete_months(year: int, months: int, today: dt.date | None = None) -> list[dt.date]:
    """Month-ends of the first `months` months of `year` that have already ended."""
    today = today or timezone.localdate()
    ends = [dt.date(year, m, calendar.monthrange(year, m)[1]) for m in range(1, months + 1)]
    return [end for end in ends if end < today]


def build_bank(rms: int, rng: np.random.Generator, year: int) -> Bank:
    sub_branches = max(12, math.ceil(rms / 10))
    branches = max(3, math.ceil(sub_branches / 4))
    short = branches <= 9 and sub_branches // branches < 99
    unit_rows = [("000", "总行", "", "head_office")]
    sub_codes: list[str] = []
    for b in range(branches):
        city = BRANCH_CITIES[b] if b < len(BRANCH_CITIES) else f"第{b + 1}"
        # A large bank's codes take 7 digits, so that no unit is numbered like an RM
        # (001001…): a target's scope names one or the other, never both.
        branch_code = f"{b + 1}00" if short else f"8{b + 1:03d}000"
        unit_rows.append((branch_code, f"{city}分行", "000", "branch"))
        count = sub_branches // branches + (1 if b < sub_branches % branches else 0)
        for s in range(count):
            code = f"{b + 1}{s + 1:02d}" if short else f"8{b + 1:03d}{s + 1:03d}"
            districts = BRANCH_DISTRICTS.get(city, ())
            district = districts[s] if s < len(districts) else f"第{s + 1}"
            unit_rows.append((code, f"{city}{district}支行", branch_code, "sub_branch"))
            sub_codes.append(code)
    units = pd.DataFrame(unit_rows, columns=["unit_code", "unit_name", "parent_code", "level"])

    rm_ids = np.char.zfill(np.char.mod("%d", np.arange(1001, 1001 + rms)), 6)
    # Contiguous blocks: RMs of a sub-branch have neighbouring employee numbers.
    rm_units = np.asarray(sub_codes)[np.arange(rms) * len(sub_codes) // max(rms, 1)]
    start = np.datetime64(f"{year - 10}-01-01")
    hire = start + rng.integers(0, 365 * 10, rms)
    # A few joined this year, so that the probation rule has someone to apply to.
    newcomers = rng.random(rms) < 0.06
    hire = np.where(newcomers, np.datetime64(f"{year}-01-01") + rng.integers(0, 200, rms), hire)
    certifications = rng.choice(["AFP", "AFP;基金从业", "CFP;AFP;基金从业", "基金从业", ""], rms)
    base_pay = rng.integers(60, 200, rms) * 10_000  # fen: 6,000–20,000 元 a quarter
    managers = units[units.level.isin(["branch", "sub_branch"])]
    staff = pd.DataFrame(
        {
            "employee_id": np.concatenate(
                # Managers 9 + their unit's code: never an RM's number, never a unit's code.
                [rm_ids, "9" + managers.unit_code.str.zfill(6), ["900001", "900002", "900003"]]
            ),
            "name": _names(rng, rms + len(managers) + 3),
            "unit_code": np.concatenate([rm_units, managers.unit_code, ["000"] * 3]),
            "position": ["rm"] * rms + ["manager"] * len(managers) + ["hr", "compliance", "admin"],
            "hire_date": np.concatenate(
                [_dates(hire), [f"{year - 12}-03-01"] * (len(managers) + 3)]
            ),
            "status": "active",
            "base_performance_pay": np.concatenate(
                [_money(base_pay), _money(np.full(len(managers), 2_500_000)), ["", "", ""]]
            ),
            "certifications": np.concatenate([certifications, [""] * (len(managers) + 3)]),
        }
    )
    return Bank(units=units, staff=staff, rm_ids=rm_ids, rm_units=rm_units)


def products_frame(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    names = {
        "deposit": ("大额存单", 1), "wealth": ("稳健理财", 2), "fund": ("精选混合基金", 3),
        "insurance": ("终身寿险", 2), "trust": ("集合信托", 4), "private_fund": ("量化私募", 5),
        "bond": ("国债", 1),
    }  # fmt: skip
    for category, (label, base_risk) in names.items():
        for n in range(1, 9):
            risk = min(5, base_risk + int(rng.integers(0, 2)))
            tag = ""
            if category == "wealth" and n <= 3:
                tag = "fixed_income_plus"
            elif category in {"fund", "insurance"} and n <= 2:
                tag = "pension"
            code = f"{category[:2].upper()}{n:04d}"
            rows.append((code, f"{label}{n}号", category, f"R{risk}", tag))
    return pd.DataFrame(
        rows, columns=["product_code", "product_name", "category", "risk_level", "strategic_tag"]
    )


def write_exports(
    out: Path,
    *,
    rms: int = 100,
    clients_per_rm: int = 40,
    months: int = 12,
    year: int | None = None,
    seed: int = 20261124,
    encoding: str = "utf-8",
    file_format: str = "csv",
    today: dt.date | None = None,
) -> list[Path]:
    """Write the whole set into `out`; returns the files written."""
    today = today or timezone.localdate()
    year = year or today.year
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    writer = _Writer(out, "xlsx" if file_format == "xlsx" else encoding)
    bank = build_bank(rms, rng, year)
    month_ends = complete_months(year, months, today)

    writer.write("org_units", bank.units)
    writer.write("staff", bank.staff)
    products = products_frame(rng)
    writer.write("products", products)

    clients = clients_per_rm * rms
    client_ids = np.char.zfill(np.char.mod("%d", np.arange(1, clients + 1)), 10)
    client_names = _names(rng, clients)
    owner = np.arange(clients) // clients_per_rm  # RM index managing each client
    client_risk = rng.choice(5, clients, p=[0.1, 0.3, 0.35, 0.18, 0.07]) + 1
    assessed = np.datetime64(f"{year - 2}-06-01") + rng.integers(0, 700, clients)
    # Wealth: log-normal, with about 3% of clients high-net-worth (≥ 6,000,000 元).
    wealth = rng.lognormal(mean=12.9, sigma=1.5, size=clients)
    holds = rng.random((clients, len(CATEGORIES))) < CATEGORY_REACH
    holds[:, 0] = True
    weights = np.where(holds, rng.random((clients, len(CATEGORIES))) * CATEGORY_SCALE, 0.0)
    weights = weights / weights.sum(axis=1, keepdims=True)
    growth = rng.normal(0.004, 0.03, (clients, len(CATEGORIES)))
    dormant = rng.random(clients) < 0.15  # no sales at all for most of the year
    # `default_rng(seed)` seeds its bit generator with a SeedSequence; the stubs only know the
    # ISeedSequence protocol, which has no `spawn`.
    seed_seq = rng.bit_generator.seed_seq
    assert isinstance(seed_seq, np.random.SeedSequence)
    reassess = np.random.default_rng(seed_seq.spawn(1)[0])

    for month_index, month_end in enumerate(month_ends):
        if month_index and month_index % 3 == 0:
            # Quarterly book rebalancing: a few clients change RM (same sub-branch first).
            moving = rng.random(clients) < 0.01
            owner = np.where(moving, rng.integers(0, rms, clients), owner)
        # Clients are reassessed about yearly: almost every assessment is renewed before it
        # lapses; the few that are not are what the T+1 warnings are for.
        # (Their own stream: the other facts stay what they were for a given seed.)
        due = assessed < np.datetime64(month_end) - np.timedelta64(300, "D")
        renewed = np.datetime64(month_end.replace(day=1)) + reassess.integers(
            0, month_end.day, clients
        )
        assessed = np.where(due & (reassess.random(clients) < 0.97), renewed, assessed)
        balances = wealth[:, None] * weights * np.exp(growth * (month_index + 1))
        client_row, category_index = np.nonzero(holds)
        cents = np.round(balances[client_row, category_index] * 100).astype(np.int64)
        holdings = pd.DataFrame(
            {
                "as_of_date": month_end.isoformat(),
                "client_id": client_ids[client_row],
                "client_name": client_names[client_row],
                "rm_employee_id": bank.rm_ids[owner[client_row]],
                "unit_code": bank.rm_units[owner[client_row]],
                "category": np.asarray(CATEGORIES)[category_index],
                "balance": _money(cents),
                "client_risk_level": np.char.add("C", client_risk[client_row].astype(str)),
                "risk_assessed_on": _dates(assessed[client_row]),
            }
        )
        writer.write("holdings", holdings, month_end.isoformat())
        _write_month_events(
            writer, rng, bank, products, month_end, client_ids, owner, client_risk, dormant
        )
    if month_ends:
        writer.write("targets", _targets(rng, bank, year), str(year))
        quarters = [
            quarter
            for quarter in quarters_of(year)
            if dt.date(year, quarter.months[-1], 1) <= month_ends[-1]
        ]
        writer.write("manual_scores", _manual_scores(rng, bank, year, quarters), str(year))
    return writer.files


def _write_month_events(
    writer: _Writer,
    rng: np.random.Generator,
    bank: Bank,
    products: pd.DataFrame,
    month_end: dt.date,
    client_ids: np.ndarray,
    owner: np.ndarray,
    client_risk: np.ndarray,
    dormant: np.ndarray,
) -> None:
    month = month_end.strftime("%Y-%m")
    compact = month.replace("-", "")  # 2026-10 -> 202610, the serials' prefix
    first = np.datetime64(month_end.replace(day=1))
    days = month_end.day
    rms = len(bank.rm_ids)
    clients = len(client_ids)

    # Sales: ~25 a month per RM, to clients they manage; a few to brand-new clients.
    count = int(rng.poisson(25 * rms))
    active = np.flatnonzero(~dormant | (rng.random(clients) < 0.03))
    buyer = rng.choice(active, count)
    product_risk = products.risk_level.str[1].astype(int).to_numpy()
    # Mostly suitable: choose among products no riskier than the client, 2% regardless.
    pick = rng.integers(0, len(products), count)
    suitable = product_risk[pick] <= client_risk[buyer]
    retry = rng.integers(0, len(products), count)
    safest = int(np.argmin(product_risk))  # suits every client (an R1 product)
    pick = np.where(suitable | (rng.random(count) < 0.02), pick,
                    np.where(product_risk[retry] <= client_risk[buyer], retry, safest))  # fmt: skip
    amount = np.round(rng.lognormal(11.0, 1.0, count) / 100) * 10_000  # whole 100 元, in fen
    keyed_by = owner[buyer]
    # One in twenty is keyed by a colleague (the attribution bases differ on these).
    colleague = rng.random(count) < 0.05
    keyed_by = np.where(colleague, rng.integers(0, rms, count), keyed_by)
    client = client_ids[buyer]
    new_clients = rng.random(count) < 0.01
    client = np.where(new_clients, _serials(f"N{compact}", count, 6), client)
    txn_ids = _serials(f"T{compact}", count, 8)
    sales = pd.DataFrame(
        {
            "txn_id": txn_ids,
            "txn_date": _dates(first + rng.integers(0, days, count)),
            "client_id": client,
            "rm_employee_id": bank.rm_ids[keyed_by],
            "product_code": products.product_code.to_numpy()[pick],
            "amount": _money(amount),
            "fee_income": _money(np.round(amount * rng.uniform(0.001, 0.012, count))),
            "channel": rng.choice(["柜面", "手机银行", "网上银行"], count, p=[0.5, 0.4, 0.1]),
        }
    )
    writer.write("sales", sales, month)

    # Activities: visits and calls to own clients, plans, and education events.
    count = int(rng.poisson(30 * rms))
    rm = rng.integers(0, rms, count)
    kind = rng.choice(
        ["visit", "call", "plan_proposed", "plan_adopted", "education_event"],
        count,
        p=[0.35, 0.4, 0.13, 0.08, 0.04],
    )
    per_rm = clients // max(rms, 1)
    their_client = client_ids[np.minimum(rm * per_rm + rng.integers(0, per_rm, count), clients - 1)]
    # The activity system writes its dates 2026/10/05.
    activity_dates = np.char.replace(_dates(first + rng.integers(0, days, count)), "-", "/")
    activities = pd.DataFrame(
        {
            "activity_id": _serials(f"A{compact}", count, 8),
            "activity_date": activity_dates,
            "rm_employee_id": bank.rm_ids[rm],
            "client_id": np.where(kind == "education_event", "", their_client),
            "activity_type": kind,
            "rating": np.where(kind == "visit", rng.integers(3, 6, count).astype(str), ""),
        }
    )
    writer.write("activities", activities, month)

    # NPS surveys: ~3 a month per RM.
    count = int(rng.poisson(3 * rms))
    rm = rng.integers(0, rms, count)
    score = rng.choice(11, count, p=[0.01] * 5 + [0.03, 0.05, 0.1, 0.2, 0.25, 0.32])
    surveys = pd.DataFrame(
        {
            "response_id": _serials(f"S{compact}", count, 6),
            "survey_date": _dates(first + rng.integers(0, days, count)),
            "client_id": client_ids[np.minimum(rm * per_rm, clients - 1)],
            "rm_employee_id": bank.rm_ids[rm],
            "nps_score": score.astype(str),
        }
    )
    writer.write("surveys", surveys, month)

    # Complaints: rare; most closed within a fortnight, some still open.
    count = int(rng.poisson(0.15 * rms))
    rm = rng.integers(0, rms, count)
    received = first + rng.integers(0, days, count)
    resolved = received + rng.integers(1, 30, count)
    closed = resolved <= np.datetime64(month_end)
    complaints = pd.DataFrame(
        {
            "complaint_id": _serials(f"C{compact}", count, 5),
            "received_date": _dates(received),
            "client_id": client_ids[np.minimum(rm * per_rm, clients - 1)],
            "rm_employee_id": bank.rm_ids[rm],
            "category": rng.choice(["服务态度", "产品收益", "办理时效", "信息披露"], count),
            "resolved_date": np.where(closed, _dates(resolved), ""),
        }
    )
    writer.write("complaints", complaints, month)

    # Recording (双录) checks: a 10% sample of the month's sales, 3% judged non-compliant.
    sampled = np.flatnonzero(rng.random(len(sales)) < 0.1)
    checks = pd.DataFrame(
        {
            "check_id": _serials(f"R{compact}", len(sampled), 6),
            "check_date": sales.txn_date.to_numpy()[sampled],
            "rm_employee_id": sales.rm_employee_id.to_numpy()[sampled],
            "txn_id": sales.txn_id.to_numpy()[sampled],
            "compliant": np.where(rng.random(len(sampled)) < 0.97, "是", "否"),
        }
    )
    writer.write("recording_checks", checks, month)


def _targets(rng: np.random.Generator, bank: Bank, year: int) -> pd.DataFrame:
    """RM targets, and each unit's target = the sum of its RMs' (so it reconciles)."""
    typical = {  # annual, 元
        "sales_attainment": 30_000_000, "aum_net_growth": 8_000_000,
        "fee_income": 150_000, "strategic_sales": 3_000_000,
    }  # fmt: skip
    parents = dict(zip(bank.units.unit_code, bank.units.parent_code, strict=True))
    frames = []
    for measure in TARGET_MEASURES:
        # Whole ten-thousands of 元 per RM, in fen.
        rm_cents = (
            np.round(typical[measure] * rng.uniform(0.7, 1.3, len(bank.rm_ids)) / 10_000).astype(
                np.int64
            )
            * 1_000_000
        )
        frame = pd.DataFrame({"scope": bank.rm_ids, "cents": rm_cents, "unit": bank.rm_units})
        rows = [frame[["scope", "cents"]]]
        level = frame.groupby("unit", sort=True).cents.sum()
        while len(level):
            rows.append(pd.DataFrame({"scope": level.index, "cents": level.to_numpy()}))
            level.index = [parents.get(code, "") for code in level.index]
            level = level[level.index != ""].groupby(level=0).sum()
        measure_rows = pd.concat(rows, ignore_index=True)
        measure_rows["measure"] = measure
        frames.append(measure_rows)
    targets = pd.concat(frames, ignore_index=True)
    return pd.DataFrame(
        {
            "year": str(year),
            "scope": targets.scope.to_numpy(),
            "measure": targets.measure.to_numpy(),
            "annual_target": _money(targets.cents.to_numpy()),
            "distribution": "",
        }
    )


def _manual_scores(
    rng: np.random.Generator, bank: Bank, year: int, quarters: list[Period]
) -> pd.DataFrame:
    measures = sorted(MANUAL_MEASURE_CODES)
    rms = len(bank.rm_ids)
    frames = []
    for quarter in quarters:
        for measure in measures:
            points = np.clip(np.round(rng.normal(82, 9, rms) * 2) / 2, 40, 100)
            frames.append(
                pd.DataFrame(
                    {
                        "period": quarter.code,
                        "employee_id": bank.rm_ids,
                        "measure": measure,
                        "score": _money(np.round(points * 100).astype(np.int64)),
                        "comment": "",
                    }
                )
            )
    columns = ["period", "employee_id", "measure", "score", "comment"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


class _Writer:
    """Writes frames with the Chinese headers the bank's exports carry."""

    def __init__(self, out: Path, encoding: str) -> None:
        self.out = out
        self.encoding = encoding
        self.files: list[Path] = []

    def write(self, kind: str, frame: pd.DataFrame, stamp: str = "") -> None:
        if frame.empty:
            # A small bank may have a month without complaints: no file rather than a
            # header-only one, which the import refuses as a truncated export.
            return
        spec = KINDS[kind]
        name = spec.file_prefix + (f"_{stamp}" if stamp else "")
        path = self.out / f"{name}.{SUFFIX[self.encoding]}"
        types = [spec.column(column).type for column in frame.columns]
        for column in spec.columns:
            if column.type == "enum" and column.name in frame:
                frame[column.name] = frame[column.name].replace(_chinese_spellings(column))
        frame = frame.rename(columns={c.name: c.aliases[0] for c in spec.columns if c.aliases})
        if self.encoding == "xlsx":
            _write_xlsx(frame, types, path, title=name)
        else:
            frame.to_csv(path, index=False, encoding=self.encoding, lineterminator="\r\n")
        self.files.append(path)


def _chinese_spellings(column: Column) -> dict[str, str]:
    """code -> its first Chinese spelling ('deposit' -> '存款'), as the bank's systems write."""
    spellings: dict[str, str] = {}
    for spelling, code in column.choices.items():
        if not spelling.isascii():
            spellings.setdefault(code, spelling)
    return spellings


def _write_xlsx(frame: pd.DataFrame, types: list[str], path: Path, title: str) -> None:
    """As the CRM's XLSX exports look: a title row, a blank row, then the header row.

    Amounts are numeric cells and dates are date cells, as Excel users leave them; IDs stay
    text so that their leading zeros survive.
    """
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    money_format = workbook.add_format({"num_format": "#,##0.00"})
    sheet = workbook.add_worksheet("导出数据")
    sheet.write_string(0, 0, f"{title} 导出")
    for column, header in enumerate(frame.columns):
        sheet.write_string(2, column, str(header))
    for row_number, row in enumerate(frame.to_numpy(dtype=object), start=3):
        for column, value in enumerate(row):
            if value == "":
                continue
            if types[column] == "amount":
                sheet.write_number(row_number, column, float(value), money_format)
            elif types[column] == "date":
                day = dt.date.fromisoformat(str(value).replace("/", "-"))
                sheet.write_datetime(row_number, column, day, date_format)
            else:
                sheet.write_string(row_number, column, str(value))
    workbook.close()
