"""The typed, immutable DR-plan model: plan → stamps → services, targets, steps.

Every value is a frozen dataclass holding tuples, so a loaded plan can be shared, hashed and
compared. Durations are integer seconds (see :mod:`framesig.drconfig.durations`). Field and
enum names follow AWS Resilience Hub (disruption keys, tier, ``disasterRecoveryApproach``),
AWS FIS (``start_after``) and Azure Site Recovery (step kind and direction).

Examples
--------
>>> step = Step(id="dns", title="Shift DNS", kind=StepKind.SCRIPT, duration_s=600,
...             tags=("traffic_enable",))
>>> step.direction.value, step.has_tag("traffic_enable")
('failover', True)
>>> Band(900, 3600).contains(1800)
True
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "SCHEMA_VERSION",
    "Disruption",
    "Tier",
    "Approach",
    "ServiceKind",
    "ReplicationMode",
    "StepKind",
    "Direction",
    "DegradationMode",
    "Band",
    "Target",
    "Replication",
    "Service",
    "Step",
    "Testing",
    "IaC",
    "Degradation",
    "Stamp",
    "Plan",
    "STANDBY_APPROACHES",
    "TAG_CANARY",
    "TAG_TRAFFIC_ENABLE",
]

#: Version of the plan file schema (the ``version`` key of TOML/YAML/JSON plans).
SCHEMA_VERSION = 1

#: Tag for a small test run that gates traffic (must precede ``traffic_enable`` steps).
TAG_CANARY = "canary"
#: Tag for a step that sends production traffic or scheduled work to a region.
TAG_TRAFFIC_ENABLE = "traffic_enable"


class Disruption(StrEnum):
    """Disruption types, the keys of a Resilience Hub v1 policy map."""

    REGION = "Region"
    AZ = "AZ"
    SOFTWARE = "Software"
    HARDWARE = "Hardware"


class Tier(StrEnum):
    """Business-impact tier (Resilience Hub ``tier`` enum)."""

    MISSION_CRITICAL = "MissionCritical"
    CRITICAL = "Critical"
    IMPORTANT = "Important"
    CORE_SERVICES = "CoreServices"
    NON_CRITICAL = "NonCritical"
    NOT_APPLICABLE = "NotApplicable"


class Approach(StrEnum):
    """DR strategy ladder (Resilience Hub v2 ``disasterRecoveryApproach``)."""

    ACTIVE_ACTIVE = "ACTIVE_ACTIVE"
    HOT_STANDBY = "HOT_STANDBY"
    WARM_STANDBY = "WARM_STANDBY"
    PILOT_LIGHT = "PILOT_LIGHT"
    BACKUP_AND_RESTORE = "BACKUP_AND_RESTORE"


#: Approaches with a passive side that must be rebuilt or woken up (the seed's
#: "active-passive"); these need IaC and identity/policy parity.
STANDBY_APPROACHES: frozenset[Approach] = frozenset(
    {
        Approach.HOT_STANDBY,
        Approach.WARM_STANDBY,
        Approach.PILOT_LIGHT,
        Approach.BACKUP_AND_RESTORE,
    }
)


class ServiceKind(StrEnum):
    """What a service is; ``other`` for anything not listed."""

    APP_SERVICE = "app_service"
    API = "api"
    STORAGE_STATIC_SITE = "storage_static_site"
    STORAGE = "storage"
    APP_GATEWAY_WAF = "app_gateway_waf"
    FRONT_DOOR = "front_door"
    TRAFFIC_MANAGER = "traffic_manager"
    DNS = "dns"
    KEY_VAULT = "key_vault"
    NETWORK = "network"
    EGRESS = "egress"
    DATABRICKS_WORKSPACE = "databricks_workspace"
    DATABRICKS_JOBS = "databricks_jobs"
    ADF = "adf"
    INTEGRATION_RUNTIME = "integration_runtime"
    AKS = "aks"
    CONTAINER_REGISTRY = "container_registry"
    CLUSTER_BACKUP = "cluster_backup"
    MYSQL = "mysql"
    POSTGRESQL = "postgresql"
    COSMOSDB = "cosmosdb"
    AIRFLOW = "airflow"
    LANGFUSE = "langfuse"
    PROMPT_ASSETS = "prompt_assets"
    MODEL_ENDPOINT = "model_endpoint"
    OTHER = "other"


class ReplicationMode(StrEnum):
    """How a service's state reaches the secondary region.

    ``redeploy`` means the service holds no data of its own and is rebuilt from IaC or source
    control; ``none`` means nothing is protected (e.g. a remote model endpoint out of our
    control) and the service cannot be inside an RPO scope.
    """

    SYNC = "sync"
    ASYNC = "async"
    BACKUP = "backup"
    GEO_RESTORE = "geo_restore"
    REDEPLOY = "redeploy"
    NONE = "none"

    @property
    def needs_interval(self) -> bool:
        """Whether an ``interval`` (the RPO floor) must be declared for this mode."""
        return self in (ReplicationMode.ASYNC, ReplicationMode.BACKUP, ReplicationMode.GEO_RESTORE)


class StepKind(StrEnum):
    """How a step is carried out (Azure Site Recovery action types)."""

    AUTOMATED = "automated"
    MANUAL = "manual"
    SCRIPT = "script"


class Direction(StrEnum):
    """Which way a step moves the workload (ASR ``PrimaryToRecovery``/``RecoveryToPrimary``)."""

    FAILOVER = "failover"
    FAILBACK = "failback"


class DegradationMode(StrEnum):
    """Ways a stamp keeps serving while a dependency is degraded."""

    RETRIES = "retries"
    CIRCUIT_BREAKER = "circuit_breaker"
    FALLBACK_MODEL = "fallback_model"
    CACHED_RESPONSES = "cached_responses"
    QUEUED_PROCESSING = "queued_processing"
    READ_ONLY = "read_only"


@dataclass(frozen=True)
class Band:
    """A target band in seconds; ``max_s`` is the objective, ``min_s`` the aim.

    Examples
    --------
    >>> b = Band(900, 3600)     # seed "15–60 min"
    >>> b.contains(600), b.contains(900), b.contains(3601)
    (False, True, False)
    """

    min_s: int
    max_s: int

    def contains(self, seconds: int) -> bool:
        """Whether ``min_s <= seconds <= max_s``."""
        return self.min_s <= seconds <= self.max_s


@dataclass(frozen=True)
class Target:
    """RTO and RPO bands for one disruption type.

    Parameters
    ----------
    rto, rpo : Band
        Recovery-time and recovery-point bands.
    scope : tuple of str
        Service ids the target covers; empty means every service of the stamp.
    """

    rto: Band
    rpo: Band
    scope: tuple[str, ...] = ()

    def in_scope(self, service_id: str) -> bool:
        """Whether ``service_id`` is covered (an empty scope covers everything).

        Examples
        --------
        >>> t = Target(Band(0, 60), Band(0, 60), scope=("db",))
        >>> t.in_scope("db"), t.in_scope("model")
        (True, False)
        """
        return not self.scope or service_id in self.scope


@dataclass(frozen=True)
class Replication:
    """Replication mode and, for async/backup/geo-restore, the declared interval."""

    mode: ReplicationMode = ReplicationMode.REDEPLOY
    interval_s: int | None = None


@dataclass(frozen=True)
class Service:
    """One service of a stamp and the services it depends on (Backstage ``dependsOn``)."""

    id: str
    kind: ServiceKind
    title: str = ""
    replication: Replication = field(default_factory=Replication)
    depends_on: tuple[str, ...] = ()
    notes: str = ""


@dataclass(frozen=True)
class Step:
    """One failover or failback step.

    Parameters
    ----------
    id, title : str
        Identifier (unique within the stamp) and the instruction.
    kind : StepKind
        automated, manual or script.
    duration_s : int
        Expected duration; the critical path is computed from these.
    timeout_s : int or None
        Give-up time; the worst-case path uses it where set.
    start_after : tuple of str
        Ids of steps (same direction) that must finish first (AWS FIS ``startAfter``).
    direction : Direction
        Set from the list the step is declared in.
    services : tuple of str
        Services the step acts on (coverage rule DR009).
    tags : tuple of str
        Free tags; ``canary`` and ``traffic_enable`` have meaning to the validator.
    owner, notes : str
        Who runs it, and anything else.
    """

    id: str
    title: str
    kind: StepKind = StepKind.AUTOMATED
    duration_s: int = 0
    timeout_s: int | None = None
    start_after: tuple[str, ...] = ()
    direction: Direction = Direction.FAILOVER
    services: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    owner: str = ""
    notes: str = ""

    def has_tag(self, tag: str) -> bool:
        """Whether the step carries ``tag``."""
        return tag in self.tags


@dataclass(frozen=True)
class Testing:
    """Test cadence; ``last_tested`` is the date of the last rehearsal, if any."""

    __test__ = False  # not a pytest test class

    cadence_s: int | None = None
    last_tested: _dt.date | None = None

    def next_due(self) -> _dt.date | None:
        """The date the next rehearsal is due, or ``None`` if unknown.

        Examples
        --------
        >>> import datetime
        >>> Testing(90 * 86400, datetime.date(2026, 1, 1)).next_due()
        datetime.date(2026, 4, 1)
        """
        if self.cadence_s is None or self.last_tested is None:
            return None
        try:
            return self.last_tested + _dt.timedelta(seconds=self.cadence_s)
        except OverflowError:  # due after the calendar's last day (year 9999)
            return _dt.date.max


@dataclass(frozen=True)
class IaC:
    """Where the stamp's infrastructure is defined (``tool`` empty means undeclared)."""

    tool: str = ""
    repo: str = ""

    @property
    def declared(self) -> bool:
        """Whether a tool is named."""
        return bool(self.tool.strip())


@dataclass(frozen=True)
class Degradation:
    """A degradation mode; empty ``services`` means it applies to the whole stamp."""

    mode: DegradationMode
    services: tuple[str, ...] = ()
    notes: str = ""

    def covers(self, service_id: str) -> bool:
        """Whether this mode protects ``service_id``."""
        return not self.services or service_id in self.services


@dataclass(frozen=True)
class Stamp:
    """One deployment stamp: a workload with its own posture, targets and checklists."""

    id: str
    title: str
    primary_region: str
    secondary_region: str | None
    approach: Approach = Approach.WARM_STANDBY
    tier: Tier = Tier.CRITICAL
    use_region_pair: bool = True
    iac: IaC = field(default_factory=IaC)
    identity_policy_parity: bool = False
    targets: tuple[tuple[Disruption, Target], ...] = ()
    services: tuple[Service, ...] = ()
    failover: tuple[Step, ...] = ()
    failback: tuple[Step, ...] = ()
    failover_criteria: tuple[str, ...] = ()
    failback_criteria: tuple[str, ...] = ()
    testing: Testing = field(default_factory=Testing)
    degradation: tuple[Degradation, ...] = ()
    notes: str = ""

    @property
    def posture(self) -> str:
        """``"active-active"`` or ``"active-passive"``, derived from :attr:`approach`."""
        return "active-active" if self.approach is Approach.ACTIVE_ACTIVE else "active-passive"

    def target(self, disruption: Disruption) -> Target | None:
        """The target for ``disruption``, or ``None``."""
        for d, t in self.targets:
            if d is disruption:
                return t
        return None

    def service(self, service_id: str) -> Service | None:
        """The service with this id, or ``None``."""
        for s in self.services:
            if s.id == service_id:
                return s
        return None

    def steps(self, direction: Direction) -> tuple[Step, ...]:
        """The failover or failback steps, in declaration order."""
        return self.failover if direction is Direction.FAILOVER else self.failback


@dataclass(frozen=True)
class Plan:
    """A DR plan: a schema version, a title and its stamps."""

    stamps: tuple[Stamp, ...]
    title: str = ""
    version: int = SCHEMA_VERSION

    def stamp(self, stamp_id: str) -> Stamp | None:
        """The stamp with this id, or ``None``."""
        for s in self.stamps:
            if s.id == stamp_id:
                return s
        return None
