"""The yearly work plan: importing one from a file, and the presets (四个一).

A plan is a record (``plans``) with the tasks and series it created. :func:`read_plan` reads
and checks a whole file (config/tabular.py reads it, bot/domain/plans.py checks each row) and
returns every problem at once; :func:`import_plan` writes a clean one in the caller's
transaction: one-off rows become tasks (``tasks.add``), rows with a 周期 become series
(``series.create``, whose instances whose time has come are created at once). A file is
imported whole or not at all.

:func:`preset` creates a preset's series (bot/domain/presets.py) for every unit but the office
itself, one plan per preset and year.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, func, insert, select

from bot.core.env import ServiceEnv
from bot.domain import plans as rows
from bot.domain.errors import Conflict, InvalidInput
from bot.domain.periods import Period, parse_year
from bot.domain.presets import PRESETS, TITLES, preset_name
from bot.domain.recurrence import Instance, SeriesRule, instance_title, period_of
from bot.services import series as series_svc
from bot.services import tasks as tasks_svc
from bot.services import units as units_svc
from config.tabular import Table, TableError, read_table
from storage.models import Plan, Series, Task

Progress = Callable[[int, int], None]
TOML_TABLES = ("任务", "task", "tasks")


@dataclass(frozen=True, slots=True)
class PlanFile:
    """A plan file read and checked: its items, or the problems that stop it."""

    year: int
    items: list[rows.PlanItem]
    problems: list[rows.Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


class PlanFileError(InvalidInput):
    """A plan file with problems; nothing of it may be imported."""

    def __init__(self, problems: list[rows.Problem], source: str) -> None:
        shown = sorted(problems, key=lambda p: (p.line, rows.COLUMNS.index(p.column)
                                                if p.column in rows.COLUMNS else 99))
        text = "\n".join([f"计划文件 {source} 有 {len(shown)} 处问题，未导入任何任务：",
                          *(f"  {p}" for p in shown)])
        super().__init__(text, log=f"plan file {source}: {len(shown)} problems")
        self.problems = shown


def read_plan(conn: Connection, env: ServiceEnv, path: Path, *, year: int | None, now: datetime,
              progress: Progress | None = None) -> PlanFile:
    """Read and check every row of a plan file (no writes). The plan's year: ``year``, else
    the file's own (TOML ``year = 2027``), else the current one."""
    try:
        table = read_table(path, tables=TOML_TABLES)
    except TableError as exc:
        raise PlanFileError([rows.Problem(0, "", exc.message)], path.name) from None
    problems: list[rows.Problem] = []
    file_year = None
    for key in ("year", "年度", "年份"):
        if key in table.top:
            file_year = rows.plan_year(table.top[key])
            if file_year is None:
                problems.append(rows.Problem(0, "", f"年度“{table.top[key]}”无效，应写作 2027"))
    if year is not None and file_year is not None and year != file_year:
        problems.append(rows.Problem(0, "", f"文件写明的年度是 {file_year}，与 --year {year} 不符"))
    plan_year = parse_year(year or file_year or env.local(now).year)
    raw = _by_column(table, problems)
    if not raw and not problems:
        problems.append(rows.Problem(0, "", "文件中没有任何任务"))
    units = units_svc.list_units(conn)
    names = units_svc.name_table(units)

    def resolve(text: str) -> tuple[int, ...]:
        return tuple(u.id for u in units_svc.resolve_with(units, names, text))

    ctx = rows.RowContext(plan_year, env.tz, env.settings.plan.due_time,
                          env.settings.plan.lead_days, resolve)
    items: list[rows.PlanItem] = []
    if progress is not None:
        progress(0, len(raw))
    for done, (line, values) in enumerate(raw, 1):
        item, found = rows.read_row(line, values, ctx)
        problems += found
        if item is not None:
            items.append(item)
        if progress is not None:
            progress(done, len(raw))
    problems += rows.duplicates(items)
    until = year_end(env, plan_year)
    for item in items:
        if item.series is not None and \
                item.series.instance(item.series.first_due_after(now)).due > until:
            problems.append(rows.Problem(item.line, "repeat",
                                         f"{plan_year}年内已没有尚未截止的一期"))
    return PlanFile(plan_year, items, problems)


def _by_column(table: Table, problems: list[rows.Problem]
               ) -> list[tuple[int, dict[str, object]]]:
    """Each row's values by column key; unknown columns are problems (a misspelt 截止 header
    must not silently drop the deadlines)."""
    known = "、".join(rows.LABELS.values())
    out: list[tuple[int, dict[str, object]]] = []
    if table.header:
        columns: dict[str, str] = {}
        for name in table.header:
            if not name:
                continue
            key = rows.column(name)
            if key is None:
                problems.append(rows.Problem(table.header_line, "", f"未知的列“{name}”（可用：{known}）"))
            elif key in columns.values():
                problems.append(rows.Problem(table.header_line, "", f"列“{name}”重复"))
            else:
                columns[name] = key
        missing = []
        if "title" not in columns.values():
            missing.append(f"表头缺少“任务”列（表头应为 {known}）")
        if not {"due", "repeat"} & set(columns.values()):
            missing.append("表头缺少“截止”或“周期”列")
        if missing:  # the rows cannot be read: their every cell would be a problem too
            problems += [rows.Problem(table.header_line, "", m) for m in missing]
            return []
        for r in table.rows:
            out.append((r.line, {columns[k]: v for k, v in r.values.items() if k in columns}))
        return out
    for r in table.rows:
        values: dict[str, object] = {}
        for name, value in r.values.items():
            key = rows.column(name)
            if key is None:
                problems.append(rows.Problem(r.line, "", f"未知的字段“{name}”（可用：{known}）"))
            else:
                values[key] = value
        out.append((r.line, values))
    return out


# ---------------------------------------------------------------------------------- writing


@dataclass(slots=True)
class ImportResult:
    plan_id: int | None  # None for a dry run
    year: int
    tasks: list[tasks_svc.TaskInfo] = field(default_factory=list)
    series: list[series_svc.SeriesInfo] = field(default_factory=list)
    instances: list[series_svc.Created] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def year_end(env: ServiceEnv, year: int) -> datetime:
    """The last moment of a plan's year: no instance of its series is due after it."""
    return Period.of_year(year).bounds(env.tz)[1] - timedelta(microseconds=1)


def import_plan(conn: Connection, env: ServiceEnv, plan: PlanFile, *, title: str, source: str,
                now: datetime, actor: str, channel: str, created_by: int | None = None,
                progress: Progress | None = None) -> ImportResult:
    """Write a checked plan: the plan record, its tasks and its series (and the instances whose
    time has come). Refused if the file has problems or a plan of that title and year exists."""
    if not plan.ok:
        raise PlanFileError(plan.problems, source)
    title = title.strip() or f"{plan.year}年工作计划"
    existing = conn.execute(select(Plan.id).where(Plan.year == plan.year, Plan.title == title)
                            ).scalar_one_or_none()
    if existing is not None:
        raise Conflict(f"{plan.year}年的计划“{title}”已导入（计划 #{existing}），如确需再导入请用 "
                       "--title 另起名称", log=f"plan {title!r} imported twice")
    pid = conn.execute(insert(Plan).returning(Plan.id), {
        "year": plan.year, "title": title, "source": source, "preset": None,
        "created_actor": actor, "created_at": now}).scalar_one()
    result = ImportResult(pid, plan.year)
    until = year_end(env, plan.year)
    for done, item in enumerate(plan.items, 1):
        where = f"第 {item.line} 行《{item.title}》"
        if item.series is None:
            assert item.due is not None
            info, warnings = tasks_svc.add(
                conn, title=item.title, due=item.due, units_spec=None, system=item.system,
                description=item.requirements, created_by=created_by, now=now, plan_id=pid,
                unit_ids=item.units)
            result.tasks.append(info)
        else:
            s, made, warnings = series_svc.create(
                conn, env, title=item.title, schedule=item.series, until=until,
                unit_ids=item.units, system=item.system, now=now, actor=actor, channel=channel,
                description=item.requirements, plan_id=pid, created_by=created_by,
                skip_past=True)
            result.series.append(s)
            result.instances += made
        result.warnings += [f"{where}：{w}" for w in warnings]
        if progress is not None:
            progress(done, len(plan.items))
    return result


def preview(env: ServiceEnv, plan: PlanFile, now: datetime) -> list[dict[str, object]]:
    """What an import would create (``--dry-run``): per row, the task or the series' instances
    (period, deadline, and when each would be created)."""
    until = year_end(env, plan.year)
    out: list[dict[str, object]] = []
    for item in plan.items:
        record: dict[str, object] = {"line": item.line, "title": item.title,
                                     "system": item.system, "units": len(item.units)}
        if item.series is None:
            assert item.due is not None
            record |= {"kind": "task", "due": item.due.isoformat()}
        else:
            start = item.series.first_due_after(now)
            record |= {"kind": "series", "repeat": item.series.rule.value,
                       "instances": [_instance_record(item.title, i)
                                     for i in item.series.instances(until, start=start)]}
        out.append(record)
    return out


def _instance_record(title: str, item: Instance) -> dict[str, object]:
    return {"period": str(item.period), "title": instance_title(title, item.period),
            "due": item.due.isoformat(), "created_from": item.opens.isoformat()}


# ---------------------------------------------------------------------------------- presets


def preset(conn: Connection, env: ServiceEnv, name: str, *, year: int | str, now: datetime,
           actor: str, channel: str, units_spec: str | None = None,
           created_by: int | None = None) -> ImportResult:
    """A preset's series for ``year``, for every unit but the office (or ``units_spec``).

    Each series is due at the end of its periods; periods whose deadline has passed are skipped.
    One plan per preset and year: a second run is refused.
    """
    name = preset_name(name)
    year = parse_year(year)
    existing = conn.execute(select(Plan.id).where(Plan.year == year, Plan.preset == name)
                            ).scalar_one_or_none()
    if existing is not None:
        raise Conflict(f"{year}年的“{name}”已创建（计划 #{existing}）", log=f"preset {name} twice")
    units = [u for u in units_svc.resolve_scope(conn, units_spec or "all")
             if units_spec or u.kind != "office"]
    if not units:
        raise InvalidInput("没有可分配的单位", log="preset without units")
    until = year_end(env, year)
    if until <= now:
        raise InvalidInput(f"{year}年已经过去，无法创建", log=f"preset for past year {year}")
    pid = conn.execute(insert(Plan).returning(Plan.id), {
        "year": year, "title": f"{year}年{TITLES[name]}", "source": f"preset:{name}",
        "preset": name, "created_actor": actor, "created_at": now}).scalar_one()
    result = ImportResult(pid, year)
    for t in PRESETS[name]:
        first = period_of(Period.of_year(year).first_day, t.rule)
        schedule = SeriesRule.period_ends(t.rule, first, env.settings.plan.due_time, env.tz,
                                          lead_days=env.settings.plan.lead_days)
        s, made, warnings = series_svc.create(
            conn, env, title=t.title, schedule=schedule, until=until,
            unit_ids=[u.id for u in units], system=t.system, now=now, actor=actor,
            channel=channel, description=t.description, fields=t.fields, kind=t.kind,
            plan_id=pid, created_by=created_by, skip_past=True)
        result.series.append(s)
        result.instances += made
        result.warnings += [f"《{t.title}》：{w}" for w in warnings]
    return result


# ---------------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class PlanInfo:
    id: int
    year: int
    title: str
    source: str
    preset: str | None
    created_at: datetime
    tasks: int
    series: int


def list_plans(conn: Connection, *, year: int | None = None) -> list[PlanInfo]:
    q = select(Plan).order_by(Plan.year, Plan.id)
    if year is not None:
        q = q.where(Plan.year == year)
    plans = conn.execute(q).all()
    ids = [p.id for p in plans]
    tasks: dict[int, int] = {}
    series: dict[int, int] = {}
    if ids:
        tasks = {int(k or 0): int(n) for k, n in conn.execute(
            select(Task.plan_id, func.count()).where(Task.plan_id.in_(ids))
            .group_by(Task.plan_id))}
        series = {int(k or 0): int(n) for k, n in conn.execute(
            select(Series.plan_id, func.count()).where(Series.plan_id.in_(ids))
            .group_by(Series.plan_id))}
    return [PlanInfo(p.id, p.year, p.title, p.source, p.preset, p.created_at,
                     tasks.get(p.id, 0), series.get(p.id, 0)) for p in plans]

