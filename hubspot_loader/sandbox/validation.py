"""Property value validation and normalisation (reference §9, §5.5).

Values arrive as JSON strings, numbers, booleans or null; they are stored and returned as strings
(``null`` and ``""`` clear a value). Problems become :class:`PropertyError` items with HubSpot's codes.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from hubspot_loader.sandbox.catalog import ObjectType, PropertyDef
from hubspot_loader.sandbox.errors import PropertyError, bad_input

_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)

MAX_STRING_LENGTH = 65_536
_EMAIL = re.compile(
    r"^[^@\s\"<>(),;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
)
_NUMBER = re.compile(r"^-?(?:\d+\.?\d*|\.\d+)$")
_EPOCH = re.compile(r"^-?\d+$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def to_text(value: Any, name: str) -> str:
    """Turn a JSON scalar into the stored string form; objects and arrays are a schema error."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    if isinstance(value, str):
        return value
    kind = "Object" if isinstance(value, dict) else "Array"
    raise bad_input(
        f"Cannot deserialize value of type `java.lang.String` from {kind} value (property {name!r})"
    )


@lru_cache(maxsize=4096)  # a batch's objects share their creation millisecond; rendering repeats it
def format_ms(ms: int) -> str:
    """Epoch milliseconds → ISO 8601 UTC with milliseconds and ``Z``."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    # the year is zero-padded by hand: strftime's %Y gives "1" rather than "0001" on glibc
    return f"{dt.year:04d}-" + dt.strftime("%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _parse_datetime(text: str) -> datetime | None:
    if _EPOCH.match(text):
        try:
            return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if _DATE_ONLY.match(text):
        try:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
        except ValueError:
            return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _check(prop: PropertyDef, text: str) -> tuple[str, PropertyError | None]:
    name = prop.name
    if text == "":
        return "", None
    if len(text) > MAX_STRING_LENGTH:
        return text, PropertyError(
            "INVALID_STRING_LENGTH",
            name,
            f"{name} is longer than the maximum of {MAX_STRING_LENGTH} characters (got {len(text)})",
        )
    if name == "email":
        if not _EMAIL.match(text):
            return text, PropertyError("INVALID_EMAIL", name, f"Email address {text} is invalid")
        return text.lower(), None
    kind = prop.type
    if kind == "number":
        if not _NUMBER.match(text.strip()):
            return text, PropertyError("INVALID_INTEGER", name, f"{text} was not a valid number")
        return text.strip(), None
    if kind in ("enumeration", "bool"):
        allowed = prop.option_values
        if kind == "bool":
            text = text.lower() if text.lower() in ("true", "false") else text
        values = [v for v in text.split(";") if v != ""] if prop.multi_valued else [text]
        for value in values:
            if value not in allowed:
                msg = f"{value} was not one of the allowed options: [{', '.join(allowed)}]"
                return text, PropertyError("INVALID_OPTION", name, msg, value=text)
        return ";".join(values), None
    if kind == "date":
        parsed = _parse_datetime(text)
        if parsed is None:
            return text, PropertyError("INVALID_DATE", name, f"{text} was not a valid date")
        if (parsed.hour, parsed.minute, parsed.second, parsed.microsecond) != (0, 0, 0, 0):
            at = f"{parsed.hour}:{parsed.minute}:{parsed.second}.{parsed.microsecond // 100000}"
            return text, PropertyError("INVALID_DATE", name, f"{text} is at {at} UTC, not midnight!")
        return parsed.date().isoformat(), None
    if kind == "datetime":
        parsed = _parse_datetime(text)
        if parsed is None:
            return text, PropertyError("INVALID_DATETIME", name, f"{text} was not a valid datetime")
        return format_ms((parsed - _UNIX_EPOCH) // _MILLISECOND), None
    return text, None


def validate_properties(
    obj: ObjectType,
    raw: Any,
    *,
    creating: bool,
    require_contact_identity: bool = True,
) -> tuple[dict[str, str], list[PropertyError]]:
    """Validate and normalise one input's ``properties``.

    Returns the normalised values (strings, ``""`` meaning "clear") and the errors. ``creating``
    enables create-only rules (a contact needs one of email, firstname, lastname).
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise bad_input("Cannot deserialize `properties`: expected an object")
    values: dict[str, str] = {}
    errors: list[PropertyError] = []
    for name, value in raw.items():
        text = to_text(value, name)
        prop = obj.properties.get(name)
        if prop is None:
            errors.append(PropertyError("PROPERTY_DOESNT_EXIST", name, f'Property "{name}" does not exist'))
            continue
        if prop.read_only:
            # a real answer's text (mautic/mautic#8785, 2020): "hs_object_id" is a calculated property; its
            # value cannot be set.
            message = f'"{name}" is a calculated property; its value cannot be set.'
            errors.append(PropertyError("READ_ONLY_VALUE", name, message))
            continue
        normalised, error = _check(prop, text)
        if error is not None:
            errors.append(error)
        else:
            values[name] = normalised
    if (
        creating
        and require_contact_identity
        and obj.name == "contacts"
        and not errors
        and not any(values.get(k) for k in ("email", "firstname", "lastname"))
    ):
        errors.append(
            PropertyError(
                "REQUIRED_PROPERTY",
                "email",
                "A contact needs at least one of the properties email, firstname or lastname",
                extra_names=["firstname", "lastname"],
            )
        )
    return values, errors
