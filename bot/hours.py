"""Support office hours: when people answer hand-overs, in which timezone, and how fast they reply."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import ConfigError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_PART = re.compile(
    r"^(?P<first>[a-z]{3})(?:\s*-\s*(?P<last>[a-z]{3}))?\s+"
    r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$"
)
_DURATION = re.compile(r"^(?P<n>\d+)\s*(?P<unit>m|min|h|d)?$")
_EXAMPLE = "Mon-Fri 09:00-17:00, Sat 10:00-13:00"


@dataclass(frozen=True)
class Window:
    """One day's opening: [start, end) local time; end 24:00 is written 00:00."""

    day: int  # 0 = Monday
    start: time
    end: time | None  # None: until midnight

    def contains(self, local: datetime) -> bool:
        if local.weekday() != self.day or local.time() < self.start:
            return False
        return self.end is None or local.time() < self.end


@dataclass(frozen=True)
class OfficeHours:
    """When a person answers; `spec` is the text the operator wrote, kept to show it back."""

    spec: str
    zone: ZoneInfo
    windows: tuple[Window, ...]
    reply_minutes: int | None = None

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.zone)
        return any(w.contains(local) for w in self.windows)

    def next_open(self, now: datetime) -> datetime:
        """The next moment a person is in (now itself when open)."""
        local = now.astimezone(self.zone)
        if self.is_open(now):
            return local
        candidates = []
        for ahead in range(8):
            day = (local + timedelta(days=ahead)).date()
            for w in self.windows:
                if w.day == day.weekday():
                    start = datetime.combine(day, w.start, tzinfo=self.zone)
                    if start > local:
                        candidates.append(start)
        return min(candidates)

    def describe(self) -> str:
        return f"{self.spec} ({self.zone.key})"

    def reply_text(self) -> str | None:
        if self.reply_minutes is None:
            return None
        return _duration(self.reply_minutes)

    def notice(self, now: datetime) -> str:
        """What the hand-over tells the customer: a reply time when open, the next opening when closed."""
        if self.is_open(now):
            if self.reply_minutes is None:
                return f"Our support team is in now ({self.describe()})."
            return f"Our support team is in now and usually replies within {self.reply_text()}."
        opens = self.next_open(now)
        local = now.astimezone(self.zone)
        when = opens.strftime("%H:%M")
        if opens.date() == local.date():
            day = "today"
        elif opens.date() == (local + timedelta(days=1)).date():
            day = "tomorrow"
        else:
            day = _DAY_NAMES[opens.weekday()]
        return (
            f"Our support team is away right now (hours: {self.describe()}). A person will answer "
            f"from {day} at {when} {self.zone.key} time. Leave your e-mail address and the reply "
            "will reach you there too."
        )

    def to_json(self, now: datetime) -> dict[str, object]:
        return {
            "hours": self.spec,
            "timezone": self.zone.key,
            "open_now": self.is_open(now),
            "next_open": self.next_open(now).isoformat(),
            "reply_minutes": self.reply_minutes,
        }


def parse(spec: str, timezone: str | None = None, reply: str | None = None) -> OfficeHours:
    """Read SUPPORTBOT_OFFICE_HOURS (with SUPPORTBOT_TIMEZONE and SUPPORTBOT_REPLY_TIME); ConfigError
    naming the variable and the fix when any part is wrong."""
    zone_name = timezone or "UTC"
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"SUPPORTBOT_TIMEZONE={zone_name!r} is not a timezone; use an IANA name such as Europe/London"
        ) from None
    windows: list[Window] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        found = _PART.match(part.lower())
        if found is None or found["first"] not in DAYS or (found["last"] or "mon") not in DAYS:
            raise ConfigError(
                f"SUPPORTBOT_OFFICE_HOURS: {part!r} must look like 'Mon-Fri 09:00-17:00' "
                f"(days Mon..Sun, 24-hour times), several joined by commas: {_EXAMPLE!r}"
            )
        start, end = _clock(part, found["start"]), _clock(part, found["end"])
        end_or_midnight = None if end == time(0) else end
        if end_or_midnight is not None and end_or_midnight <= start:
            raise ConfigError(
                f"SUPPORTBOT_OFFICE_HOURS: {part!r} closes before it opens; hours that run past midnight "
                "are written as two parts, e.g. 'Mon 22:00-00:00, Tue 00:00-02:00'"
            )
        first = DAYS.index(found["first"])
        last = DAYS.index(found["last"] or found["first"])
        days = range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)]
        windows.extend(Window(day, start, end_or_midnight) for day in days)
    if not windows:
        raise ConfigError(f"SUPPORTBOT_OFFICE_HOURS is empty; write e.g. {_EXAMPLE!r}")
    return OfficeHours(spec.strip(), zone, tuple(windows), _reply_minutes(reply))


def _clock(part: str, text: str) -> time:
    hours, minutes = (int(n) for n in text.split(":"))
    if hours > 23 or minutes > 59:
        raise ConfigError(
            f"SUPPORTBOT_OFFICE_HOURS: {part!r} has the time {text!r}; times run 00:00 to 23:59"
        )
    return time(hours, minutes)


def _reply_minutes(value: str | None) -> int | None:
    if not value:
        return None
    found = _DURATION.match(value.strip().lower())
    if found is None or int(found["n"]) == 0:
        raise ConfigError(
            f"SUPPORTBOT_REPLY_TIME={value!r} must be a duration such as 30m, 4h or 1d (minutes when bare)"
        )
    return int(found["n"]) * {"m": 1, "min": 1, "h": 60, "d": 1440}[found["unit"] or "m"]


def _duration(minutes: int) -> str:
    if minutes % 1440 == 0:
        n, unit = minutes // 1440, "day"
    elif minutes % 60 == 0:
        n, unit = minutes // 60, "hour"
    else:
        n, unit = minutes, "minute"
    return f"{n} {unit}" + ("" if n == 1 else "s")
