"""SLA clocks: help-desk response and resolution targets measured on one interaction.

:func:`measure_sla` turns one SLA policy (:class:`~servicerules.model.ruleset.SlaSpec`) and one
interaction into :class:`MetricInstance` values, each saying when its clock started and stopped, how much
(business) time it counted, when the target falls due and whether it was met.  :func:`worst` picks the
instance a report should show.  The module is pure: ``as_of`` is passed in, the wall clock is never read,
and events after ``as_of`` are ignored, so a ticket can be replayed as it stood at any instant.

The metrics follow the SLA policies of Zendesk, whose definitions Freshdesk and Jira Service Management
(JSM) share in substance; where the products differ, the choice made here is named.

Reply metrics (never paused)
----------------------------
``first_reply_time``
    From the interaction's ``created_at`` to the first *qualifying reply* (below).  Zendesk does not
    measure it on tickets an agent created (an outbound ticket needs no reply), so when the first
    conversation event (message or note) comes from an agent or manager the metric is
    ``not_applicable``.
``next_reply_time``
    One instance per run of unanswered customer messages, started by the *oldest* unanswered public
    customer message (Zendesk: "the oldest unanswered end-user comment") and stopped by the next
    qualifying reply.  The customer's opening message belongs to ``first_reply_time``, so a run can only
    start once the first reply (or a solve, or an agent-created opening) has answered the ticket.

Both reply metrics ignore ``pause_on`` and keep running while the ticket is pending or on hold, as in
Zendesk, where only requester wait time, agent work time and pausable update pause.  (Freshdesk instead
stops every SLA timer, first response included, in statuses marked "SLA timer off"; JSM pauses whatever
its goal's pause conditions name.  A policy that wants that behaviour cannot get it from these two
metrics.)

Solving the ticket fulfils a running reply clock (Zendesk: solving fulfils the reply metrics); the solve
is judged against the deadline like a reply, so a solve after the deadline leaves the instance
``breached`` -- Zendesk, too, records a breach as soon as the target passes and keeps it.

Update metric
-------------
``periodic_update``
    After every qualifying reply made while the ticket is not solved, the next one must follow within
    the target, whatever the customer writes in between (Zendesk: "the time between each public comment
    from agents").  It stops at the next qualifying reply, which starts the next instance, or at a solve.
    It pauses in ``pause_on``: write ``pause_on: []`` for Zendesk's *periodic update*, ``[pending]`` for
    its *pausable update*.

Status metrics (a single instance from ``created_at`` to the final solve)
-------------------------------------------------------------------------
``requester_wait_time``
    Time in new, open and on hold -- the customer is waiting -- not pending (Zendesk).
``agent_work_time``
    Time in new and open only: pending and on hold pause it (Zendesk).
``resolution_time``
    From creation to the *final* solve (Zendesk's total resolution time), pausing in ``pause_on``
    (Freshdesk and JSM pause resolution in pending / "waiting for customer").  The time a ticket spent
    solved before it was reopened counts, as in Zendesk; add ``solved`` to ``pause_on`` to exclude it.
    (JSM starts a new cycle on reopening instead.)

Requester wait time and agent work time never count solved or closed time; a reopened ticket resumes the
same clock (Zendesk reactivates the metric), and the instance stops at the last solve that is not followed
by a reopening before ``as_of``.

Pausing: every metric except the two reply metrics pauses while the ticket is in a status listed in
``spec.pause_on``.  When the policy author leaves ``pause_on`` out, each metric gets its help-desk default
instead of the schema's generic ``[pending, on_hold]``: requester wait time ``[pending]``, agent work time,
resolution time and periodic update ``[pending, on_hold]``.  An explicit ``pause_on`` always wins.

What counts as a reply (``spec.reply``)
---------------------------------------
A ``message`` event whose author is an agent or manager, that is public, and that no automation sent
(``automated`` unset) -- the personal reply of :mod:`servicerules.measures.conversation`.  An autoresponder
acknowledgement, a bot answer or a trigger's macro does not stop a reply clock, and an internal note
(a ``note`` event, or a ``message`` with ``public: false``) never does (Zendesk, Freshdesk and JSM all
require a public agent comment).  ``reply.public: false`` also accepts internal notes and private
messages, ``reply.human: false`` also accepts bot and system authors, ``reply.automated: true`` also
accepts messages that have the ``automated`` flag (an agent's macro, a trigger, an autoresponder).

Ticket status
-------------
Status comes from ``status`` events; a ticket starts ``new``.  Status is never inferred from messages
(Zendesk reopens a pending ticket when the customer writes, but then the export carries that status
change).  When no event sets solved or closed, the record's ``solved_at`` (else ``closed_at``), if not
after ``as_of``, is taken as the solve; such a stop has ``stop_index`` ``None``.

Time, deadlines and states
--------------------------
Time counts in the calendar the caller passes (the SLA's business calendar, or
:meth:`BusinessCalendar.always_open` for calendar time).  ``elapsed_seconds`` sums the open time of the
unpaused stretches; ``paused_seconds`` the open time of the paused ones.  ``deadline`` is the instant the
counted time reaches the target, found by walking the unpaused stretches; if the target is not reached by
the stop (or by ``as_of`` while running) it is projected from there as if the clock ran on without another
pause -- so a clock paused at ``as_of`` shows the deadline it would have if it resumed now.

States compare instants, not amounts: a stop at or before the deadline is ``achieved``, after it
``breached``; a running clock is ``breaching`` once ``as_of`` is past the deadline, else ``pending``.
With business hours the two readings can differ: a target used up exactly at Friday's closing falls due
then (see :meth:`BusinessCalendar.add_business_seconds`), so a reply at Friday 18:00 is ``breached``
although no business time elapsed after 17:00.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, NamedTuple

from pydantic_core import TzInfo

from servicerules.measures.calendar import BusinessCalendar
from servicerules.measures.catalogue import FactSpec, FactType, InteractionContext
from servicerules.model.interaction import Interaction
from servicerules.model.ruleset import ReplyDefinition, SlaSpec, TicketStatus

__all__ = ["METRICS", "MetricInstance", "MetricState", "measure_sla", "sla_instances", "worst", "worst_instance"]

MetricState = Literal["achieved", "breached", "breaching", "pending", "not_applicable"]

METRICS = (
    "first_reply_time",
    "next_reply_time",
    "periodic_update",
    "requester_wait_time",
    "agent_work_time",
    "resolution_time",
)

_STAFF = frozenset({"agent", "manager"})
_AUTOMATION_AUTHORS = frozenset({"bot", "system"})
_REPLY_AUTHORS = _STAFF | _AUTOMATION_AUTHORS
_SOLVED: frozenset[TicketStatus] = frozenset({"solved", "closed"})
_NEVER_PAUSED = frozenset({"first_reply_time", "next_reply_time"})
_DEFAULT_PAUSE: dict[str, frozenset[TicketStatus]] = {
    "requester_wait_time": frozenset({"pending"}),
    "agent_work_time": frozenset({"pending", "on_hold"}),
    "resolution_time": frozenset({"pending", "on_hold"}),
    "periodic_update": frozenset({"pending", "on_hold"}),
}
_INITIAL_STATUS: TicketStatus = "new"


class MetricInstance(NamedTuple):
    """One run of an SLA clock, with the evidence a report needs (start, stop, deadline, elapsed time).

    ``stop_index`` is ``None`` while the clock runs, and also when the stop is the record's ``solved_at``
    rather than an event; the state tells which (``pending``/``breaching`` mean running).  Durations are
    seconds of the calendar the SLA was measured in.

    A named tuple rather than a frozen dataclass: as immutable, and a fifth of the cost to create (a batch
    creates a few per interaction).
    """

    sla_id: str
    metric: str
    state: MetricState
    target_seconds: float | None
    elapsed_seconds: float | None
    start_index: int | None
    start_at: datetime | None
    stop_index: int | None
    stop_at: datetime | None
    deadline: datetime | None
    paused_seconds: float = 0.0


# _Step, _StatusChange and _History are not frozen: a frozen dataclass costs four times as much to create, and
# an interaction's history makes a dozen of them.
@dataclass(slots=True)
class _Step:
    """An event up to ``as_of``, or the solve taken from the record's ``solved_at`` (``index`` None)."""

    at: datetime
    us: int
    """``at`` as microseconds since the epoch: instants compare as numbers (see :func:`_instant`)."""
    index: int | None
    status: TicketStatus | None
    """The status this step sets, if any (``solved`` for the record-level solve)."""
    is_solve: bool
    writing: _Writing | None
    """For a message or note: what decides whether it is a reply or a customer message."""


_Writing = tuple[str, bool, str | None, bool]
"""A message or note as the reply clocks see it: (event type, public, author role, not automated).  The
clocks ask each message whether it is a reply, again for each SLA; reading the event once into this tuple
makes each answer a set look-up (see :func:`_replies`)."""


@dataclass(slots=True)
class _StatusChange:
    at: datetime
    us: int
    index: int | None
    status: TicketStatus


@dataclass(slots=True)
class _History:
    """What every SLA of an interaction reads at one ``as_of``: the events up to it (plus a record-level
    solve) and the status timeline, each timestamp converted to an instant once. A ruleset's SLAs share it
    (:func:`sla_instances`), instead of each converting every timestamp again."""

    as_of_us: int
    created_us: int
    steps: list[_Step]
    timeline: list[_StatusChange]
    status_spans: list[tuple[int, int, TicketStatus]]
    """The timeline as (from, until, status) in instants; the last status holds until :data:`_END_OF_TIME`."""
    agent_created: bool
    """Zendesk does not run first reply time on a ticket an agent opened (an outbound contact).  Judged on the
    events up to ``as_of``: before the opening message exists nobody knows who wrote it."""

    @classmethod
    def of(cls, interaction: Interaction, as_of: datetime) -> "_History":
        # One pass over the events builds everything, since an interaction's history is built for nearly every
        # interaction a ruleset with SLAs checks.
        as_of_us = _instant(as_of)
        created = interaction.created_at
        created_us = _instant(created)
        # A parsed record usually gives all its timestamps one zone object with a fixed offset.  Python
        # subtracts two datetimes of one zone object as wall clocks, which for a fixed offset is the real time
        # between them, and at half the cost of going through both UTC offsets as _instant does.
        zone = created.tzinfo if type(created.tzinfo) in _FIXED_OFFSET_ZONES else None
        steps: list[_Step] = []
        timeline = [_StatusChange(created, created_us, None, _INITIAL_STATUS)]
        agent_created: bool | None = None  # decided by the first message or note
        solved = False
        for index, event in enumerate(interaction.events):
            at = event.at
            us = created_us + (at - created) // _ONE_US if at.tzinfo is zone else (at - _EPOCH) // _ONE_US
            if us > as_of_us:
                continue
            kind = event.type
            if kind == "status" and event.status is not None:
                status = event.status
                is_solve = status in _SOLVED
                solved = solved or is_solve
                steps.append(_Step(at, us, index, status, is_solve, None))
                if us >= created_us:
                    timeline.append(_StatusChange(at, us, index, status))
                else:
                    timeline.append(_StatusChange(created, created_us, index, status))
                continue
            writing: _Writing | None = None
            if kind == "message" or kind == "note":
                author = event.author
                role = author.role if author is not None else None
                writing = (kind, event.public, role, event.automated is False)
                if agent_created is None:
                    agent_created = role in _STAFF
            steps.append(_Step(at, us, index, None, False, writing))
        if not solved:
            _insert_record_solve(interaction, created_us, as_of_us, steps, timeline)
        following = [change.us for change in timeline[1:]]
        following.append(_END_OF_TIME)
        return cls(
            as_of_us=as_of_us,
            created_us=created_us,
            steps=steps,
            timeline=timeline,
            status_spans=[(change.us, until, change.status) for change, until in zip(timeline, following)],
            agent_created=agent_created is True,
        )


def _insert_record_solve(
    interaction: Interaction, created_us: int, as_of_us: int, steps: list[_Step], timeline: list[_StatusChange]
) -> None:
    """The record's ``solved_at`` (else ``closed_at``) as a solve, for a record whose events never solve it."""
    solved_at = interaction.solved_at or interaction.closed_at
    if solved_at is None or (solved_us := _instant(solved_at)) > as_of_us:
        return
    # After events at the same instant: a reply posted with the solve is the more telling stop.
    position = sum(1 for step in steps if step.us <= solved_us)
    steps.insert(position, _Step(solved_at, solved_us, None, "solved", True, None))
    # The timeline lists the status changes in the order of the steps.
    changes_before = sum(1 for step in steps[:position] if step.status is not None)
    if solved_us >= created_us:
        change = _StatusChange(solved_at, solved_us, None, "solved")
    else:
        change = _StatusChange(interaction.created_at, created_us, None, "solved")
    timeline.insert(1 + changes_before, change)


def measure_sla(spec: SlaSpec, interaction: Interaction, as_of: datetime, calendar: BusinessCalendar) -> list[MetricInstance]:
    """Measure ``spec`` on ``interaction`` as it stood at ``as_of``, in ``calendar`` time.

    ``calendar`` is the business calendar named by ``spec.calendar``, or
    :meth:`BusinessCalendar.always_open` for an SLA in calendar time.  Returns at least one instance:
    reply and update metrics one per clock run, status metrics exactly one, and a single
    ``not_applicable`` instance when no clock applies (no target for the priority, an agent-created
    ticket for first reply time, no run started yet, or an interaction created after ``as_of``).
    """
    return _measure_sla(spec, interaction, as_of, calendar, lambda: _History.of(interaction, as_of))


def _measure_sla(
    spec: SlaSpec,
    interaction: Interaction,
    as_of: datetime,
    calendar: BusinessCalendar,
    history: Callable[[], _History],
) -> list[MetricInstance]:
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise ValueError(f"as_of must be timezone-aware, got naive {as_of.isoformat()}")
    target = spec.targets.get(interaction.priority, spec.targets.get("*"))
    if target is None:
        return [_not_applicable(spec, None)]
    measured = history()
    if measured.created_us > measured.as_of_us:
        return [_not_applicable(spec, target)]

    measure = _Measure(spec, target, calendar, measured, as_of)
    steps = measured.steps
    metric = spec.metric
    if metric == "first_reply_time":
        instances = _first_reply_time(measure, interaction, steps)
    elif metric == "next_reply_time":
        instances = _next_reply_time(measure, steps)
    elif metric == "periodic_update":
        instances = _periodic_update(measure, steps)
    else:
        instances = [_status_metric(measure, interaction)]
    return instances or [_not_applicable(spec, target)]


_STATE_RANK: dict[str, int] = {"breached": 0, "breaching": 0, "pending": 1, "achieved": 2, "not_applicable": 3}


def worst(instances: Sequence[MetricInstance]) -> MetricInstance | None:
    """The instance to report for an SLA: breached or breaching first, then pending, then achieved,
    then not applicable; within a group the earliest deadline (the most overdue or most urgent).
    ``None`` for an empty sequence."""

    def key(item: tuple[int, MetricInstance]) -> tuple[int, bool, datetime, int]:
        position, instance = item
        deadline = instance.deadline.astimezone(timezone.utc) if instance.deadline is not None else _NO_DEADLINE
        return (_STATE_RANK[instance.state], instance.deadline is None, deadline, position)

    if len(instances) < 2:  # most SLAs run one clock per interaction: nothing to compare
        return instances[0] if instances else None
    return min(enumerate(instances), key=key)[1]


_NO_DEADLINE = datetime.max.replace(tzinfo=timezone.utc)


# ---- what happened, up to as_of ------------------------------------------------------------------


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_US = timedelta(microseconds=1)
_END_OF_TIME = 2**63
"""An instant after every datetime (year 9999 is about 2.5e17 microseconds after the epoch)."""
_FIXED_OFFSET_ZONES = (timezone, TzInfo)
"""Zone classes whose UTC offset never changes (pydantic parses ``+01:00`` and ``Z`` into a ``TzInfo``)."""


def _instant(at: datetime) -> int:
    """Microseconds since the epoch of an aware datetime, exact, so instants compare as numbers.

    Compare instants, not datetimes: two datetimes sharing a zone object compare by wall clock (and a
    repeated hour's two readings then compare equal).  Subtracting a datetime of another zone (``_EPOCH``
    is UTC) goes through both UTC offsets, so the difference is the real time between the instants.
    """
    return (at - _EPOCH) // _ONE_US


def _qualifies_as_reply(writing: _Writing, definition: ReplyDefinition) -> bool:
    kind, public, role, personal = writing
    if kind == "message":
        if definition.public and not public:
            return False
    elif kind != "note" or definition.public:
        return False
    if role not in (_STAFF if definition.human else _REPLY_AUTHORS):
        return False
    return definition.automated or personal


_WRITINGS = tuple(
    (kind, public, role, personal)
    for kind in ("message", "note")
    for public in (True, False)
    for role in ("customer", "agent", "manager", "bot", "system", None)
    for personal in (True, False)
)
_CUSTOMER_MESSAGES = frozenset(writing for writing in _WRITINGS if writing[:3] == ("message", True, "customer"))


@functools.lru_cache(maxsize=None)
def _replies(public: bool, human: bool, automated: bool) -> frozenset[_Writing]:
    """Every message or note that counts as a reply under ``ReplyDefinition(public, human, automated)``."""
    definition = ReplyDefinition(public=public, human=human, automated=automated)
    return frozenset(writing for writing in _WRITINGS if _qualifies_as_reply(writing, definition))


# ---- one clock run --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Measure:
    """Everything a clock run of this SLA on this interaction needs besides its start and stop."""

    spec: SlaSpec
    target: float
    calendar: BusinessCalendar
    history: _History
    as_of: datetime
    paused_in: frozenset[TicketStatus] = field(init=False)
    """Statuses whose time the clock does not count (it goes to ``paused_seconds``)."""
    replies: frozenset[_Writing] = field(init=False)
    """The messages and notes that count as replies (``spec.reply``)."""

    def __post_init__(self) -> None:
        self.paused_in = _paused_in(self.spec)
        reply = self.spec.reply
        self.replies = _replies(reply.public, reply.human, reply.automated)

    def run(self, start_at: datetime, start_us: int, start_index: int | None, stop: _Step | _StatusChange | None) -> MetricInstance:
        """The clock run from a start to a stop step or status change (``None``: still running at ``as_of``)."""
        if stop is not None:
            end, end_us = stop.at, stop.us
        else:
            end, end_us = self.as_of, self.history.as_of_us
        calendar, paused_in, target = self.calendar, self.paused_in, self.target
        begins: list[int] = []  # the counted stretches: where each begins, and its business seconds
        lengths: list[float] = []
        paused = 0.0
        for since_us, until_us, status in self.history.status_spans:  # [start, end) cut where the status changes
            begin = since_us if since_us > start_us else start_us
            finish = until_us if until_us < end_us else end_us
            if begin < finish:
                length = calendar.business_seconds_between_us(begin, finish)
                if status in paused_in:
                    paused += length
                else:
                    begins.append(begin)
                    lengths.append(length)
        # The deadline: walk the counted stretches until the target is used up, else project it from the end
        used = 0.0
        for begin, length in zip(begins, lengths):
            if used + length >= target:
                deadline_us = calendar.due_us(begin, max(0.0, target - used))
                break
            used += length
        else:
            deadline_us = calendar.due_us(end_us, target - used, end)
        if stop is not None:
            state: MetricState = "achieved" if end_us <= deadline_us else "breached"
        else:
            state = "breaching" if self.history.as_of_us > deadline_us else "pending"
        spec = self.spec
        return MetricInstance(
            sla_id=spec.id,
            metric=spec.metric,
            state=state,
            target_seconds=target,
            elapsed_seconds=sum(lengths),
            start_index=start_index,
            start_at=start_at,
            stop_index=None if stop is None else stop.index,
            stop_at=None if stop is None else stop.at,
            deadline=calendar.localise_us(deadline_us),
            paused_seconds=paused,
        )


def _paused_in(spec: SlaSpec) -> frozenset[TicketStatus]:
    """``pause_on`` as it applies to the metric (see the module docstring), plus the solved statuses for
    the two metrics that never count solved time."""
    metric = spec.metric
    if metric in _NEVER_PAUSED:
        return frozenset()
    pause_on = frozenset(spec.pause_on) if "pause_on" in spec.model_fields_set else _DEFAULT_PAUSE[metric]
    if metric in ("requester_wait_time", "agent_work_time"):
        return pause_on | _SOLVED
    return pause_on


def _not_applicable(spec: SlaSpec, target: float | None) -> MetricInstance:
    return MetricInstance(
        sla_id=spec.id,
        metric=spec.metric,
        state="not_applicable",
        target_seconds=target,
        elapsed_seconds=None,
        start_index=None,
        start_at=None,
        stop_index=None,
        stop_at=None,
        deadline=None,
    )


# ---- the metrics ------------------------------------------------------------------------------------


def _first_reply_time(measure: _Measure, interaction: Interaction, steps: Sequence[_Step]) -> list[MetricInstance]:
    if measure.history.agent_created:
        return []
    replies = measure.replies
    created_us = measure.history.created_us
    for step in steps:
        if step.is_solve or step.writing in replies:
            return [measure.run(interaction.created_at, created_us, None, step)]
    return [measure.run(interaction.created_at, created_us, None, None)]


def _next_reply_time(measure: _Measure, steps: Sequence[_Step]) -> list[MetricInstance]:
    replies = measure.replies
    instances: list[MetricInstance] = []
    answered = measure.history.agent_created
    oldest_unanswered: _Step | None = None
    for step in steps:
        if step.is_solve or step.writing in replies:
            if oldest_unanswered is not None:
                instances.append(measure.run(oldest_unanswered.at, oldest_unanswered.us, oldest_unanswered.index, step))
                oldest_unanswered = None
            answered = True
        elif step.writing in _CUSTOMER_MESSAGES:
            if answered and oldest_unanswered is None:
                oldest_unanswered = step
    if oldest_unanswered is not None:
        instances.append(measure.run(oldest_unanswered.at, oldest_unanswered.us, oldest_unanswered.index, None))
    return instances


def _periodic_update(measure: _Measure, steps: Sequence[_Step]) -> list[MetricInstance]:
    replies = measure.replies
    instances: list[MetricInstance] = []
    last_update: _Step | None = None
    solved = False
    for step in steps:
        if step.is_solve:
            if last_update is not None:
                instances.append(measure.run(last_update.at, last_update.us, last_update.index, step))
                last_update = None
            solved = True
        elif step.status is not None:
            solved = False
        elif step.writing in replies:
            if last_update is not None:
                instances.append(measure.run(last_update.at, last_update.us, last_update.index, step))
            # A comment on a solved ticket keeps it solved; no update is owed until it is reopened.
            last_update = None if solved else step
    if last_update is not None:
        instances.append(measure.run(last_update.at, last_update.us, last_update.index, None))
    return instances


def _status_metric(measure: _Measure, interaction: Interaction) -> MetricInstance:
    """Requester wait, agent work and resolution time: one clock from creation to the final solve."""
    timeline = measure.history.timeline
    final_solve: _StatusChange | None = None
    for change in reversed(timeline):
        if change.status not in _SOLVED:
            break
        final_solve = change
    return measure.run(interaction.created_at, measure.history.created_us, None, final_solve)


# -- facts for rules ------------------------------------------------------------------------------------


def sla_instances(ctx: InteractionContext, spec: SlaSpec) -> list[MetricInstance]:
    """The SLA's metric instances for this interaction, measured once per interaction."""

    def compute(c: InteractionContext) -> list[MetricInstance]:
        def history() -> _History:
            return c.cached("sla.history", lambda c: _History.of(c.interaction, c.as_of))  # type: ignore[no-any-return]

        return _measure_sla(spec, c.interaction, c.as_of, c.resources.calendar(spec.calendar), history)

    result: list[MetricInstance] = ctx.cached("sla:" + spec.id, compute)
    return result


def worst_instance(ctx: InteractionContext, spec: SlaSpec) -> MetricInstance | None:
    """:func:`worst` of :func:`sla_instances`, picked once per interaction (each ``sla.<id>.*`` fact, the
    report's SLA result and its evidence all ask for it)."""
    result: MetricInstance | None = ctx.cached("sla.worst:" + spec.id, lambda c: worst(sla_instances(c, spec)))
    return result


def _covers(ctx: InteractionContext, spec: SlaSpec, applies: Callable[[InteractionContext], bool] | None) -> bool:
    """Whether the SLA covers this interaction: ``applies`` (its ``when``; None: every one), worked out once."""
    return applies is None or bool(ctx.cached("sla.applies:" + spec.id, applies))


def _worst_applicable(
    ctx: InteractionContext, spec: SlaSpec, applies: Callable[[InteractionContext], bool] | None
) -> MetricInstance | None:
    if not _covers(ctx, spec, applies):
        return None
    found = worst_instance(ctx, spec)
    return None if found is None or found.state == "not_applicable" else found


def sla_fact_prefix(spec: SlaSpec) -> str:
    """``sla.<id>.`` with the id written as an expression name: ``email-first-reply`` → ``sla.email_first_reply.``."""
    return "sla." + re.sub(r"[^A-Za-z0-9_]", "_", spec.id) + "."


def sla_facts(spec: SlaSpec, applies: Callable[[InteractionContext], bool] | None = None) -> dict[str, FactSpec]:
    """Ruleset-local facts ``sla.<id>.*`` describing the SLA's worst metric instance.

    They are unknown (null) when the SLA does not apply, so a rule using them is "not applicable": where no
    clock applies, and where ``applies`` (the SLA's ``when``; None: every interaction) is false.
    """
    prefix = sla_fact_prefix(spec)

    def field_of(getter: Callable[[MetricInstance], Any]) -> Callable[[InteractionContext], Any]:
        def compute(ctx: InteractionContext) -> Any:
            instance = _worst_applicable(ctx, spec, applies)
            return None if instance is None else getter(instance)

        return compute

    def count(ctx: InteractionContext) -> int | None:
        if not _covers(ctx, spec, applies):
            return None
        return sum(1 for i in sla_instances(ctx, spec) if i.state != "not_applicable") or None

    rows: list[tuple[str, FactType, str, str, Callable[[InteractionContext], Any]]] = [
        ("state", "string", "achieved, breached, breaching or pending (the worst instance)", '"breached"',
         field_of(lambda i: i.state)),
        ("breached", "bool", "the target was missed (breached) or has passed unanswered at as_of (breaching)", "true",
         field_of(lambda i: i.state in ("breached", "breaching"))),
        ("elapsed", "duration", "time counted against the target (business time with a calendar, pauses excluded)",
         "5h 12m", field_of(lambda i: i.elapsed_seconds)),
        ("target", "duration", "the target for the interaction's priority", "4h", field_of(lambda i: i.target_seconds)),
        ("deadline", "timestamp", "when the target is or was reached", "2026-03-02T13:00:00+01:00",
         field_of(lambda i: i.deadline)),
        ("count", "number", "number of metric instances (e.g. one per unanswered customer message)", "2", count),
    ]
    facts: dict[str, FactSpec] = {}
    for name, type_, description, example, compute in rows:
        facts[prefix + name] = FactSpec(
            prefix + name, type_, "interaction", f"SLA '{spec.id}' ({spec.metric}): {description}", example, "sla", compute
        )
    return facts
