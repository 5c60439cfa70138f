"""The clock: every timestamp the app stores is naive UTC to the second, written with `Z`."""

from datetime import UTC, date, datetime


def utcnow() -> datetime:
    """The current UTC time, naive and to the second (as stored on every database)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def utctoday() -> date:
    return datetime.now(UTC).date()


def utc_iso(value: datetime) -> str:
    """ISO 8601 with `Z`, to the second."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(microsecond=0).isoformat() + "Z"
