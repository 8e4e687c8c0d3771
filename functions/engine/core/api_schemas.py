"""Marshmallow schemas of the answers, for the OpenAPI document (requests are in schemas.py)."""

from __future__ import annotations

from marshmallow import Schema, fields

from engine.core.schemas import EventSchema


class ErrorBodySchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Raw(allow_none=True, required=True)


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


class AcceptedSchema(Schema):
    event_id = fields.UUID(required=True, allow_none=True, metadata={"description": "null when the event was dropped"})
    status = fields.String(required=True, metadata={"enum": ["accepted", "duplicate", "dropped"]})


class RejectedEventSchema(Schema):
    index = fields.Integer(required=True)
    errors = fields.Dict(required=True)


class BatchResultSchema(Schema):
    accepted = fields.Integer(required=True)
    duplicates = fields.Integer(required=True)
    dropped = fields.Integer(required=True, metadata={"description": "valid events not appended: the sender is a known crawler"})
    rejected = fields.List(fields.Nested(RejectedEventSchema), required=True)
    event_ids = fields.List(fields.UUID(allow_none=True), required=True)


class BatchObjectSchema(Schema):
    events = fields.List(fields.Nested(EventSchema), required=True, metadata={"minItems": 1})
    sent_at = fields.AwareDateTime(allow_none=True)


class SegmentResultSchema(Schema):
    success = fields.Boolean(required=True)
    accepted = fields.Integer(required=True)
    duplicates = fields.Integer(required=True)
    dropped = fields.Integer(required=True, metadata={"description": "valid messages not appended: the sender is a known crawler"})
    rejected = fields.List(fields.Nested(RejectedEventSchema), required=True)


class SegmentErrorSchema(Schema):
    success = fields.Boolean(required=True)
    code = fields.String(required=True)
    message = fields.String(required=True)
    error = fields.Nested(ErrorBodySchema, required=True)


class SegmentBatchSchema(Schema):
    class Meta:
        unknown = "include"

    batch = fields.List(fields.Dict(), required=True, metadata={"minItems": 1})
    context = fields.Dict(allow_none=True)
    integrations = fields.Dict(allow_none=True)
    sentAt = fields.AwareDateTime(allow_none=True)
    writeKey = fields.String(allow_none=True)


class ElementCountSchema(Schema):
    element = fields.String(required=True)
    count = fields.Integer(required=True)


class WindowSchema(Schema):
    seconds = fields.Integer(required=True)
    to = fields.String(required=True, data_key="to")
    since = fields.String(required=True, data_key="from")


class AllTimeSchema(Schema):
    events = fields.Integer(required=True)
    users = fields.Integer(required=True)
    top_elements = fields.List(fields.Nested(ElementCountSchema), required=True)


class MetricsSchema(Schema):
    active_users = fields.Integer(required=True)
    events_per_min = fields.Float(required=True)
    avg_duration = fields.Float(required=True)
    top_elements = fields.List(fields.Nested(ElementCountSchema), required=True)
    events_in_window = fields.Integer(required=True)
    window = fields.Nested(WindowSchema, required=True)
    as_of = fields.String(required=True)
    all_time = fields.Nested(AllTimeSchema, required=True)
    freshness = fields.Dict(required=True)


class SeriesSchema(Schema):
    """The dashboard's series under /metrics/...: objects whose keys the README lists."""

    class Meta:
        unknown = "include"


class DrainSchema(Schema):
    read = fields.Integer(required=True)
    inserted = fields.Integer(required=True)
    duplicates = fields.Integer(required=True)
    dead_lettered = fields.Integer(required=True)
    reclaimed = fields.Integer(required=True)
    identities = fields.Integer(required=True, metadata={"description": "identify, group and alias operations applied"})
    retry_later = fields.Integer(required=True)
    backlog = fields.Integer(required=True)
    batches = fields.Integer(required=True)
    seconds = fields.Float(required=True)


class RefreshSchema(Schema):
    request_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["refreshed", "skipped"]})
    seconds = fields.Float(required=True)
    reason = fields.String(metadata={"description": "why it was skipped"})
    timings = fields.Dict(keys=fields.String(), values=fields.Float(), metadata={"description": "seconds per step"})
    partitions = fields.Dict(metadata={"description": "partitions created and dropped, rows expired"})
    backfill = fields.Dict(metadata={"description": "a pending backfill of the rollups: events counted, chunks, projects left, seconds"})


class ErasureSchema(Schema):
    erasure_id = fields.Integer(required=True, metadata={"description": "the row of the erasures table that records it"})
    project_id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": ["erased", "nothing_found"]})
    ids = fields.Integer(required=True, metadata={"description": "ids erased: the person's own and every linked one"})
    erased = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "rows erased (or rollup rows changed) per kind"},
    )
    seconds = fields.Float(required=True)


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"enum": ["ok", "degraded"]})
    function = fields.String(required=True)
    checks = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    stream = fields.Dict(
        metadata={"description": "ingest and stream-drain: backlog, oldest undrained age, and for ingest why it would refuse events"}
    )
