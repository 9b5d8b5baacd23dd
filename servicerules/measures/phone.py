"""Call handling: queue wait, answer and abandonment, holds, transfers, talk and handle time.

The facts are read from the call events of one interaction (``call.queued``, ``call.answered``,
``call.abandoned``, ``call.ended``, ``hold.started``, ``hold.ended``, ``transfer``), walked in time order:

* A **queue wait** runs from ``call.queued`` to the first ``call.answered``, ``call.abandoned`` or
  ``call.ended`` after it. A transferred call that goes back into a queue has one wait per queue: the
  first wait is ``call.queue_wait`` (the service-level figure, "answered within 20 s", is about how long
  the caller waited for the first agent), all of them together are ``call.total_queue_wait``. A wait
  still open at ``as_of`` is measured up to ``as_of`` (the caller has waited at least that long).
* A wait that ends with ``call.ended`` (the line dropped) is measured but is not an abandon: only a
  recorded ``call.abandoned`` is.
* The caller is **connected** from ``call.answered`` until the call goes back into a queue
  (``call.queued`` after a blind transfer) or ends; a warm transfer (``transfer`` then ``call.answered``
  without a queue) stays connected. ``call.handle_time`` is the connected time, hold included;
  ``call.talk_time`` is that minus the holds. A call still connected at ``as_of`` counts up to ``as_of``.
* A **hold** runs from ``hold.started`` to ``hold.ended``; a hold that is never ended counts up to
  ``call.ended``, or to ``as_of`` while the call goes on. A second ``hold.started`` during a hold
  continues the same hold; a ``hold.ended`` without a hold is ignored.

Events after ``as_of`` are ignored: the facts describe the call as it stood at ``as_of`` (a call answered
after it is still waiting, one queued after it is not a call yet).

Interactions without any ``call.*`` event (up to ``as_of``) are not calls: every fact is null there (so phone rules are
"not applicable" to e-mails), except that hold and transfer facts count ``hold.*``/``transfer`` events
wherever they occur (a chat can be transferred).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from servicerules.measures.catalogue import EventPointer, InteractionContext, fact, seconds_between

__all__ = ["SHORT_ABANDON_SECONDS", "CallTimeline", "QueueWait", "call_timeline"]

FAMILY = "phone"

SHORT_ABANDON_SECONDS = 5.0
"""An abandon after a queue wait under this many seconds is a *short abandon* (misdial, impatient
re-dial), which call centres commonly leave out of their abandonment rate. Rules that need another
threshold combine ``call.abandoned`` with ``call.queue_wait`` themselves."""


@dataclass(frozen=True)
class QueueWait:
    seconds: float
    outcome: str
    """answered, abandoned, ended (the line dropped) or waiting (still queued at as_of)."""


@dataclass(frozen=True)
class CallTimeline:
    """Everything the phone facts need, from one pass over the events."""

    is_call: bool
    waits: tuple[QueueWait, ...]
    answered: bool
    abandoned: bool
    holds: tuple[tuple[dt.datetime, dt.datetime], ...]
    connected: tuple[tuple[dt.datetime, dt.datetime], ...]
    transfers: int


def _seconds(start: dt.datetime, end: dt.datetime) -> float:
    return max(0.0, seconds_between(start, end))


_CONVERSATION_EVENTS = frozenset({"message", "note", "status", "action"})
"""The event types that play no part in a call's timeline."""


def _build(ctx: InteractionContext) -> CallTimeline:
    waits: list[QueueWait] = []
    holds: list[tuple[dt.datetime, dt.datetime]] = []
    connected: list[tuple[dt.datetime, dt.datetime]] = []
    queued_at: dt.datetime | None = None
    connected_at: dt.datetime | None = None
    hold_at: dt.datetime | None = None
    is_call = answered = abandoned = False
    transfers = 0

    def close_wait(at: dt.datetime, outcome: str) -> None:
        nonlocal queued_at
        if queued_at is not None:
            waits.append(QueueWait(_seconds(queued_at, at), outcome))
            queued_at = None

    def close_connection(at: dt.datetime) -> None:
        nonlocal connected_at
        if connected_at is not None:
            connected.append((connected_at, max(at, connected_at)))
            connected_at = None

    as_of = ctx.as_of
    for event in ctx.events:
        kind = event.type
        if kind in _CONVERSATION_EVENTS:
            continue  # most events of most interactions: not even their time is read
        at = event.at
        if kind.startswith("call."):
            is_call = True
        if kind == "call.queued":
            close_connection(at)  # back in a queue after a blind transfer
            if queued_at is None:
                queued_at = at
        elif kind == "call.answered":
            answered = True
            close_wait(at, "answered")
            if connected_at is None:
                connected_at = at
        elif kind == "call.abandoned":
            abandoned = True
            close_wait(at, "abandoned")
            close_connection(at)
        elif kind == "call.ended":
            close_wait(at, "ended")
            close_connection(at)
            if hold_at is not None:
                holds.append((hold_at, max(at, hold_at)))
                hold_at = None
        elif kind == "hold.started":
            if hold_at is None:
                hold_at = at
        elif kind == "hold.ended":
            if hold_at is not None:
                holds.append((hold_at, at))
                hold_at = None
        elif kind == "transfer":
            transfers += 1
    close_wait(as_of, "waiting")
    close_connection(as_of)
    if hold_at is not None:
        holds.append((hold_at, max(as_of, hold_at)))
    return CallTimeline(is_call, tuple(waits), answered, abandoned, tuple(holds), tuple(connected), transfers)


def call_timeline(ctx: InteractionContext) -> CallTimeline:
    """The interaction's call timeline (computed once per interaction)."""
    return ctx.cached("phone.timeline", _build)  # type: ignore[no-any-return]


def _hold_seconds(call: CallTimeline) -> list[float]:
    return [_seconds(start, end) for start, end in call.holds]


def _has_holds_or_call(call: CallTimeline) -> bool:
    return call.is_call or bool(call.holds)


def _overlap(spans: tuple[tuple[dt.datetime, dt.datetime], ...], holds: tuple[tuple[dt.datetime, dt.datetime], ...]) -> float:
    total = 0.0
    for span_start, span_end in spans:
        for hold_start, hold_end in holds:
            total += _seconds(max(span_start, hold_start), min(span_end, hold_end))
    return total


def _first_of(ctx: InteractionContext, kind: str) -> int | None:
    return next((i for i, e in enumerate(ctx.events) if e.type == kind), None)  # ctx.events end at as_of


_QUEUED = EventPointer("the first call.queued event", functools.partial(_first_of, kind="call.queued"))
_ABANDONED = EventPointer("the first call.abandoned event", functools.partial(_first_of, kind="call.abandoned"))


@fact(
    "call.queue_wait",
    "duration",
    "how long the caller waited in the first queue: call.queued to the first call.answered, call.abandoned "
    "or call.ended after it (a call.ended logged before the answer ends the wait there); a call still queued "
    "at as_of is measured up to as_of. Later queues after a transfer are in call.total_queue_wait. Null "
    "without call.queued",
    "18s",
    family=FAMILY,
    about=_QUEUED,
)
def _queue_wait(ctx: InteractionContext) -> float | None:
    waits = call_timeline(ctx).waits
    return waits[0].seconds if waits else None


@fact(
    "call.queued_at",
    "timestamp",
    "when the caller entered the first queue (the first call.queued event by as_of): the moment a call "
    "centre counts a call as offered, e.g. for a target grouped by interval_30m (group_time: call.queued_at); "
    "null without call.queued",
    "2026-03-02T09:00:12+01:00",
    family=FAMILY,
    about=_QUEUED,
)
def _queued_at(ctx: InteractionContext) -> dt.datetime | None:
    index = _QUEUED.find(ctx)
    return None if index is None else ctx.events[index].at


@fact(
    "call.total_queue_wait",
    "duration",
    "the caller's waits in all queues together, including the queues a transfer sent the call back to; "
    "null without call.queued",
    "1m 5s",
    family=FAMILY,
    about=_QUEUED,
)
def _total_queue_wait(ctx: InteractionContext) -> float | None:
    waits = call_timeline(ctx).waits
    return sum(w.seconds for w in waits) if waits else None


@fact(
    "call.answered",
    "bool",
    "the caller reached an agent (a call.answered event by as_of); null for interactions without call events "
    "(events after as_of are ignored by every call.* fact)",
    "true",
    family=FAMILY,
)
def _answered(ctx: InteractionContext) -> bool | None:
    call = call_timeline(ctx)
    return call.answered if call.is_call else None


@fact(
    "call.abandoned",
    "bool",
    "the caller hung up while waiting in a queue (a call.abandoned event, in the first queue or after a "
    "transfer); null for interactions without call events",
    "false",
    family=FAMILY,
    about=_ABANDONED,
)
def _abandoned(ctx: InteractionContext) -> bool | None:
    call = call_timeline(ctx)
    return call.abandoned if call.is_call else None


@fact(
    "call.short_abandon",
    "bool",
    "the call was abandoned after a queue wait under 5 seconds (fixed threshold; for another one write "
    "call.abandoned and call.queue_wait < 10s); null without call events, or when the abandoned wait has "
    "no call.queued to measure from",
    "true",
    family=FAMILY,
    about=_ABANDONED,
)
def _short_abandon(ctx: InteractionContext) -> bool | None:
    call = call_timeline(ctx)
    if not call.is_call:
        return None
    if not call.abandoned:
        return False
    abandoned = next((w for w in call.waits if w.outcome == "abandoned"), None)
    return abandoned.seconds < SHORT_ABANDON_SECONDS if abandoned is not None else None


@fact(
    "call.hold_time",
    "duration",
    "total time on hold (hold.started to hold.ended; a hold never ended counts up to call.ended, or to "
    "as_of while the call goes on); 0 for a call without holds, null when there are no call or hold events",
    "2m 30s",
    family=FAMILY,
)
def _hold_time(ctx: InteractionContext) -> float | None:
    call = call_timeline(ctx)
    return sum(_hold_seconds(call)) if _has_holds_or_call(call) else None


@fact(
    "call.hold_count",
    "number",
    "how many times the caller was put on hold; null when there are no call or hold events",
    "2",
    family=FAMILY,
)
def _hold_count(ctx: InteractionContext) -> int | None:
    call = call_timeline(ctx)
    return len(call.holds) if _has_holds_or_call(call) else None


@fact(
    "call.longest_hold",
    "duration",
    "the longest single hold (0 for a call without holds); null when there are no call or hold events",
    "1m 45s",
    family=FAMILY,
)
def _longest_hold(ctx: InteractionContext) -> float | None:
    call = call_timeline(ctx)
    return max(_hold_seconds(call), default=0.0) if _has_holds_or_call(call) else None


@fact(
    "call.transfer_count",
    "number",
    "number of transfer events; null when the interaction has neither call events nor transfers",
    "1",
    family=FAMILY,
)
def _transfer_count(ctx: InteractionContext) -> int | None:
    call = call_timeline(ctx)
    return call.transfers if call.is_call or call.transfers else None


@fact(
    "call.handle_time",
    "duration",
    "time the caller was connected to agents, hold included: call.answered to call.ended, without the "
    "time back in a queue after a blind transfer; a call still connected at as_of counts up to as_of. "
    "Null when the call was never answered",
    "6m 40s",
    family=FAMILY,
)
def _handle_time(ctx: InteractionContext) -> float | None:
    call = call_timeline(ctx)
    if not call.connected:
        return None
    return sum(_seconds(start, end) for start, end in call.connected)


@fact(
    "call.talk_time",
    "duration",
    "call.handle_time minus the time on hold while connected; null when the call was never answered",
    "4m 10s",
    family=FAMILY,
)
def _talk_time(ctx: InteractionContext) -> float | None:
    call = call_timeline(ctx)
    if not call.connected:
        return None
    handle = sum(_seconds(start, end) for start, end in call.connected)
    return max(0.0, handle - _overlap(call.connected, call.holds))
