"""Declarative mappings: any CSV, JSON or JSONL help-desk export onto the interaction model.

A mapping file (YAML, documented in ``docs/reference/mapping.md``, JSON Schema in
``schemas/mapping.schema.json``) says how the rows of an export become interactions:

* ``layout: per_interaction`` (one row is one interaction: a call, a complaint) or ``layout: per_message``
  (one row is one message or event; rows are grouped into interactions by ``group_by`` or, for reply
  trees, by ``thread``);
* ``fields``: target path → source, e.g. ``customer.name: requester_name``, ``events[].text: body``,
  ``attributes.order.amount: {column: amount, type: float}``; constants, templates, value maps, type
  conversion, timestamps in one column or in separate date and time columns, time zones for naive times,
  epoch seconds;
* ``events``: events synthesised from columns (``call.queued`` when ``q_start`` is set, …);
* ``joins``: lookup tables read from secondary files (the ticket export for a comment export).

:func:`apply_mapping` turns a stream of :class:`~servicerules.batch.readers.RawRecord` rows into a stream
of ``RawRecord`` interactions (``data`` is an interaction dict with ISO 8601 timestamps that carry an
offset), ready for :func:`servicerules.batch.runner.check_records`. Nothing is dropped silently: a row
that cannot be mapped becomes a ``RawRecord`` with ``error`` (naming the column and the value) and its own
position; reader errors pass through unchanged.

Memory: ``per_interaction`` and ``grouping: contiguous`` hold one interaction at a time (plus the set of
finished group keys, to report a key whose rows are not adjacent); ``grouping: buffered`` holds every
group until the input ends; ``thread`` holds the open reply trees (with a ``replies`` column a tree is
emitted as soon as every tweet it references has been read; the tweet ids of rejected trees that came out
are kept, so that a late reply to one is rejected too) and the id and line of every post read, to reject a
post id that appears again. Joined files are read fully into memory,
keeping only the columns the mapping uses.

One module a stage: ``_spec`` (the models of a mapping file, its JSON Schema), ``_checks`` (target paths
and the checks across fields), ``_load`` (reading a file, diagnostics at file positions), ``_plan``
(compiling a mapping into getters, conversions and time parsing), ``_apply`` (rows, joins, grouping).
"""

from servicerules.batch.mapping._apply import CODE_GROUPING, CODE_JOIN, CODE_VALUE, apply_mapping, check_join_files, join_paths, read_mapped
from servicerules.batch.mapping._load import MAPPINGS_DIR, MappingError, load_mapping, mapping_path, shipped_mappings
from servicerules.batch.mapping._spec import (
    Condition,
    EventSpec,
    InputSpec,
    JoinSpec,
    Mapping,
    Offset,
    ThreadSpec,
    Value,
    mapping_json_schema,
)

__all__ = [
    "CODE_GROUPING",
    "CODE_JOIN",
    "CODE_VALUE",
    "MAPPINGS_DIR",
    "Condition",
    "EventSpec",
    "InputSpec",
    "JoinSpec",
    "Mapping",
    "MappingError",
    "Offset",
    "ThreadSpec",
    "Value",
    "apply_mapping",
    "check_join_files",
    "join_paths",
    "load_mapping",
    "mapping_json_schema",
    "mapping_path",
    "read_mapped",
    "shipped_mappings",
]
