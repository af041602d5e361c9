"""Load plans from TOML (stdlib ``tomllib``), JSON, or YAML (optional ``pyyaml`` extra).

Loading is strict: unknown fields, wrong types, unknown enum values and bad durations raise
:class:`PlanError` naming the file and a location such as ``stamps[web].failover[3].start_after``
(list indexes are 0-based; stamps are named by id). Cross-references (``start_after``,
``depends_on``, scopes) are *not* checked here: that is the validator's job, so that it can
report all of them at once.

Examples
--------
>>> plan = loads_plan('''
... version = 1
... [[stamps]]
... id = "web"
... title = "Web"
... primary_region = "Central US"
... ''')
>>> plan.stamps[0].primary_region, plan.stamps[0].secondary_region
('centralus', 'eastus2')
>>> loads_plan('version = 1\\n[[stamps]]\\nid = "web"\\ncolour = "red"\\n', source="p.toml")
Traceback (most recent call last):
...
framesig.drconfig.load.PlanError: p.toml: stamps[web].colour: unknown field (allowed: ...)
"""

from __future__ import annotations

import datetime as _dt
import importlib
import json
import re
import tomllib
from collections.abc import Callable, Mapping
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from framesig.drconfig.durations import DurationError, parse_duration
from framesig.drconfig.model import (
    SCHEMA_VERSION,
    Approach,
    Band,
    Degradation,
    DegradationMode,
    Direction,
    Disruption,
    IaC,
    Plan,
    Replication,
    ReplicationMode,
    Service,
    ServiceKind,
    Stamp,
    Step,
    StepKind,
    Target,
    Testing,
    Tier,
)
from framesig.drconfig.regions import normalize_region, paired_region

__all__ = [
    "PlanError",
    "load_plan",
    "loads_plan",
    "plan_from_dict",
    "seed_plan",
    "seed_plan_text",
    "SEED_PLAN_RESOURCE",
]

#: File name of the packaged seed plan inside ``framesig.drconfig``.
SEED_PLAN_RESOURCE = "seed_plan.toml"

_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
E = TypeVar("E", bound=StrEnum)


class PlanError(ValueError):
    """A plan that cannot be loaded: missing file, bad syntax, unknown field, wrong type.

    Parameters
    ----------
    source : str
        The file (or ``"<string>"``).
    cause : str
        What is wrong.
    loc : str
        Where, e.g. ``stamps[web].failover[3].start_after``; empty for file-level problems.

    Examples
    --------
    >>> str(PlanError("plan.toml", "expected a list of strings", "stamps[web].failover[3]"))
    'plan.toml: stamps[web].failover[3]: expected a list of strings'
    """

    def __init__(self, source: str, cause: str, loc: str = "") -> None:
        self.source = source
        self.cause = cause
        self.loc = loc
        super().__init__(f"{source}: {loc}: {cause}" if loc else f"{source}: {cause}")


class _Obj:
    """A mapping being read at ``loc``; ``done()`` rejects keys nobody asked for."""

    def __init__(self, source: str, loc: str, data: object, allowed: tuple[str, ...]) -> None:
        if not isinstance(data, Mapping):
            raise PlanError(source, f"expected a table/mapping, got {_tname(data)}", loc)
        self.source = source
        self.loc = loc
        self.data = data
        self.allowed = allowed
        for key in data:
            if key not in allowed:
                raise PlanError(
                    source, f"unknown field (allowed: {', '.join(allowed)})", self.at(str(key))
                )

    def at(self, key: str) -> str:
        return f"{self.loc}.{key}" if self.loc else key

    def err(self, key: str, cause: str) -> PlanError:
        return PlanError(self.source, cause, self.at(key))

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str) -> object:
        return self.data.get(key)

    def text(self, key: str, default: str | None = None) -> str:
        v = self.data.get(key, default)
        if v is None:
            raise self.err(key, "required field is missing")
        if not isinstance(v, str):
            raise self.err(key, f"expected a string, got {_tname(v)}")
        return v

    def ident(self, key: str) -> str:
        v = self.text(key)
        if not _ID.match(v):
            raise self.err(
                key, f"invalid id {v!r}: use lower-case letters, digits, '-', '_' or '.'"
            )
        return v

    def opt_text(self, key: str) -> str | None:
        return self.text(key) if self.data.get(key) is not None else None

    def flag(self, key: str, default: bool) -> bool:
        v = self.data.get(key, default)
        if not isinstance(v, bool):
            raise self.err(key, f"expected true or false, got {_tname(v)}")
        return v

    def integer(self, key: str, default: int) -> int:
        v = self.data.get(key, default)
        if not isinstance(v, int) or isinstance(v, bool):
            raise self.err(key, f"expected an integer, got {_tname(v)}")
        return v

    def texts(self, key: str) -> tuple[str, ...]:
        v = self.data.get(key, [])
        if not isinstance(v, list | tuple) or not all(isinstance(x, str) for x in v):
            raise self.err(key, f"expected a list of strings, got {_tname(v)}")
        return tuple(v)

    def duration(self, key: str, required: bool = True) -> int | None:
        if key not in self.data or self.data[key] is None:
            if required:
                raise self.err(key, "required duration is missing (e.g. '15m' or 'PT15M')")
            return None
        try:
            return parse_duration(self.data[key])
        except DurationError as exc:
            raise self.err(key, str(exc)) from None

    def enum(self, key: str, cls: type[E], default: E | None = None) -> E:
        v = self.data.get(key)
        if v is None:
            if default is None:
                raise self.err(key, "required field is missing")
            return default
        try:
            return cls(v)
        except ValueError:
            allowed = ", ".join(m.value for m in cls)
            raise self.err(key, f"unknown value {v!r} (allowed: {allowed})") from None

    def seq(self, key: str) -> list[object]:
        v = self.data.get(key, [])
        if not isinstance(v, list | tuple):
            raise self.err(key, f"expected a list (array of tables), got {_tname(v)}")
        return list(v)

    def date(self, key: str) -> _dt.date | None:
        v = self.data.get(key)
        if v is None:
            return None
        if isinstance(v, _dt.datetime):
            raise self.err(key, "expected a date (YYYY-MM-DD), got a date-time")
        if isinstance(v, _dt.date):
            return v
        if isinstance(v, str):
            try:
                return _dt.date.fromisoformat(v)
            except ValueError:
                pass
        raise self.err(key, f"expected a date (YYYY-MM-DD), got {v!r}")


def _tname(v: object) -> str:
    if isinstance(v, Mapping):
        return "a table"
    if isinstance(v, list | tuple):
        return "a list"
    if isinstance(v, bool):
        return "a boolean"
    return type(v).__name__


def _band(parent: _Obj, key: str) -> Band:
    o = _Obj(parent.source, parent.at(key), parent.data.get(key), ("min", "max"))
    lo = o.duration("min")
    hi = o.duration("max")
    assert lo is not None and hi is not None
    return Band(lo, hi)


def _service(src: str, loc: str, data: object) -> Service:
    o = _Obj(src, loc, data, ("id", "kind", "title", "replication", "depends_on", "notes"))
    rep = Replication()
    if o.has("replication"):
        r = _Obj(src, o.at("replication"), o.raw("replication"), ("mode", "interval"))
        rep = Replication(r.enum("mode", ReplicationMode), r.duration("interval", required=False))
    return Service(
        id=o.ident("id"),
        kind=o.enum("kind", ServiceKind),
        title=o.text("title", ""),
        replication=rep,
        depends_on=o.texts("depends_on"),
        notes=o.text("notes", ""),
    )


_STEP_FIELDS = (
    "id",
    "title",
    "kind",
    "duration",
    "timeout",
    "start_after",
    "direction",
    "services",
    "tags",
    "owner",
    "notes",
)


def _step(src: str, loc: str, data: object, direction: Direction) -> Step:
    o = _Obj(src, loc, data, _STEP_FIELDS)
    declared = o.enum("direction", Direction, direction)
    if declared is not direction:
        raise o.err(
            "direction", f"step is listed under {direction.value} but declares {declared.value}"
        )
    duration = o.duration("duration")
    assert duration is not None
    return Step(
        id=o.ident("id"),
        title=o.text("title"),
        kind=o.enum("kind", StepKind),
        duration_s=duration,
        timeout_s=o.duration("timeout", required=False),
        start_after=o.texts("start_after"),
        direction=direction,
        services=o.texts("services"),
        tags=o.texts("tags"),
        owner=o.text("owner", ""),
        notes=o.text("notes", ""),
    )


_STAMP_FIELDS = (
    "id",
    "title",
    "tier",
    "approach",
    "primary_region",
    "secondary_region",
    "use_region_pair",
    "iac",
    "identity_policy_parity",
    "targets",
    "services",
    "failover",
    "failback",
    "failover_criteria",
    "failback_criteria",
    "testing",
    "degradation",
    "notes",
)


def _stamp(src: str, index: int, data: object, defaults: _Obj) -> Stamp:
    sid = data.get("id") if isinstance(data, Mapping) else None
    loc = f"stamps[{sid}]" if isinstance(sid, str) and _ID.match(sid) else f"stamps[{index}]"
    o = _Obj(src, loc, data, _STAMP_FIELDS)

    primary = o.opt_text("primary_region") or defaults.opt_text("primary_region")
    if primary is None:
        raise o.err("primary_region", "required field is missing (here or in [defaults])")
    primary = normalize_region(primary)
    secondary = o.opt_text("secondary_region")
    use_pair = o.flag("use_region_pair", defaults.flag("use_region_pair", True))
    secondary = normalize_region(secondary) if secondary else paired_region(primary)

    iac = IaC()
    if o.has("iac"):
        i = _Obj(src, o.at("iac"), o.raw("iac"), ("tool", "repo"))
        iac = IaC(i.text("tool", ""), i.text("repo", ""))

    targets: list[tuple[Disruption, Target]] = []
    if o.has("targets"):
        t = _Obj(src, o.at("targets"), o.raw("targets"), tuple(d.value for d in Disruption))
        for d in Disruption:
            if t.has(d.value):
                to = _Obj(src, t.at(d.value), t.raw(d.value), ("rto", "rpo", "scope"))
                targets.append((d, Target(_band(to, "rto"), _band(to, "rpo"), to.texts("scope"))))

    testing = Testing()
    if o.has("testing"):
        te = _Obj(src, o.at("testing"), o.raw("testing"), ("cadence", "last_tested"))
        testing = Testing(te.duration("cadence", required=False), te.date("last_tested"))

    def items(key: str, build: Callable[[str, object], Any]) -> tuple[Any, ...]:
        return tuple(build(f"{o.at(key)}[{i}]", v) for i, v in enumerate(o.seq(key)))

    def degradation(loc: str, v: object) -> Degradation:
        d = _Obj(src, loc, v, ("mode", "services", "notes"))
        return Degradation(
            d.enum("mode", DegradationMode), d.texts("services"), d.text("notes", "")
        )

    return Stamp(
        id=o.ident("id"),
        title=o.text("title", ""),
        primary_region=primary,
        secondary_region=secondary,
        approach=o.enum(
            "approach", Approach, defaults.enum("approach", Approach, Approach.WARM_STANDBY)
        ),
        tier=o.enum("tier", Tier, defaults.enum("tier", Tier, Tier.CRITICAL)),
        use_region_pair=use_pair,
        iac=iac,
        identity_policy_parity=o.flag("identity_policy_parity", False),
        targets=tuple(targets),
        services=items("services", lambda loc, v: _service(src, loc, v)),
        failover=items("failover", lambda loc, v: _step(src, loc, v, Direction.FAILOVER)),
        failback=items("failback", lambda loc, v: _step(src, loc, v, Direction.FAILBACK)),
        failover_criteria=o.texts("failover_criteria"),
        failback_criteria=o.texts("failback_criteria"),
        testing=testing,
        degradation=items("degradation", degradation),
        notes=o.text("notes", ""),
    )


def plan_from_dict(data: object, source: str = "<data>") -> Plan:
    """Build a :class:`Plan` from parsed TOML/YAML/JSON data.

    Parameters
    ----------
    data : mapping
        The document: ``version``, optional ``title`` and ``[defaults]``, ``[[stamps]]``.
    source : str
        Name used in error messages.

    Raises
    ------
    PlanError
        With the location of the first problem found.

    Examples
    --------
    >>> plan_from_dict({"version": 2, "stamps": []}, "x.json")
    Traceback (most recent call last):
    ...
    framesig.drconfig.load.PlanError: x.json: version: unsupported schema version 2 (supported: 1)
    """
    o = _Obj(source, "", data, ("version", "title", "defaults", "stamps"))
    version = o.integer("version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise o.err(
            "version", f"unsupported schema version {version} (supported: {SCHEMA_VERSION})"
        )
    defaults = _Obj(
        source,
        "defaults",
        o.raw("defaults") or {},
        ("primary_region", "approach", "tier", "use_region_pair"),
    )
    stamps = tuple(_stamp(source, i, v, defaults) for i, v in enumerate(o.seq("stamps")))
    return Plan(stamps=stamps, title=o.text("title", ""), version=version)


def _parse_yaml(text: str, source: str) -> object:
    try:
        yaml = importlib.import_module("yaml")
    except ImportError:
        raise PlanError(
            source,
            "reading YAML plans needs PyYAML, which is not installed; "
            "install it with `pip install 'framesig[yaml]'` or use TOML",
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlanError(source, f"invalid YAML: {exc}") from None


def loads_plan(text: str, format: str = "toml", source: str = "<string>") -> Plan:
    """Parse a plan from text.

    Parameters
    ----------
    text : str
        The document.
    format : {"toml", "yaml", "json"}
        Its syntax.
    source : str
        Name used in error messages.

    Examples
    --------
    >>> loads_plan('{"version": 1, "stamps": []}', format="json").stamps
    ()
    >>> loads_plan("version = ", source="bad.toml")
    Traceback (most recent call last):
    ...
    framesig.drconfig.load.PlanError: bad.toml: invalid TOML: Invalid value (at end of document)
    """
    data: object
    if format == "toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise PlanError(source, f"invalid TOML: {exc}") from None
    elif format in ("yaml", "yml"):
        data = _parse_yaml(text, source)
    elif format == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PlanError(source, f"invalid JSON: {exc}") from None
    else:
        raise PlanError(source, f"unknown plan format {format!r} (use toml, yaml or json)")
    return plan_from_dict(data, source)


def load_plan(path: str | Path) -> Plan:
    """Load a plan file; the format follows the suffix (``.toml``, ``.yaml``/``.yml``, ``.json``).

    Raises
    ------
    PlanError
        If the file is missing or unreadable, or its content is not a valid plan.

    Examples
    --------
    >>> load_plan("no/such/plan.toml")
    Traceback (most recent call last):
    ...
    framesig.drconfig.load.PlanError: no/such/plan.toml: file not found
    """
    p = Path(path)
    suffix = p.suffix.lower().lstrip(".")
    fmt = {"toml": "toml", "yaml": "yaml", "yml": "yaml", "json": "json"}.get(suffix)
    if fmt is None:
        raise PlanError(str(path), "unknown plan file type (use .toml, .yaml, .yml or .json)")
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError(str(path), "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(str(path), f"cannot read file: {exc}") from None
    return loads_plan(text, fmt, str(path))


def seed_plan_text() -> str:
    """The packaged seed plan (the four Central US stamps) as TOML text.

    Examples
    --------
    >>> seed_plan_text().startswith("# framesig DR plan")
    True
    """
    return resources.files("framesig.drconfig").joinpath(SEED_PLAN_RESOURCE).read_text("utf-8")


def seed_plan() -> Plan:
    """The packaged seed plan, loaded.

    Examples
    --------
    >>> [s.id for s in seed_plan().stamps]
    ['web', 'data', 'k8s', 'genai']
    """
    return loads_plan(seed_plan_text(), "toml", f"framesig.drconfig/{SEED_PLAN_RESOURCE}")
