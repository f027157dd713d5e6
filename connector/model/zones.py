"""IANA time zones by name, with every way a name can fail turned into one ValueError."""

from __future__ import annotations

import zoneinfo

# The longest IANA name is about 30 characters; a long one would reach the file system as is.
MAX_ZONE_NAME = 64


def load_zone(name: str) -> zoneinfo.ZoneInfo:
    """The zone called `name`; ValueError naming what is expected otherwise."""
    wrong = ValueError(f"unknown time zone {name[:MAX_ZONE_NAME]!r}; expected an IANA name such "
                       "as UTC or Europe/Warsaw")
    if not name or len(name) > MAX_ZONE_NAME:
        raise wrong
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a name that is a directory, or not readable as a zone file.
        raise wrong from None
