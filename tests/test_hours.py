"""Office hours: parsing the setting, open or closed at a moment, the next opening, what the customer is told."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.errors import ConfigError
from bot.hours import parse
from bot.settings import Settings

# 2026-12-04 is a Friday; Europe/Berlin is UTC+1 in December and UTC+2 from the last Sunday of March.
FRIDAY_NOON_UTC = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_open_and_closed_follow_the_timezone_not_utc() -> None:
    hours = parse("Mon-Fri 09:00-17:00", "Europe/Berlin", "4h")
    assert hours.is_open(FRIDAY_NOON_UTC)  # 13:00 in Berlin
    assert hours.is_open(datetime(2026, 12, 4, 15, 59, tzinfo=UTC))  # 16:59 in Berlin
    assert not hours.is_open(datetime(2026, 12, 4, 16, 0, tzinfo=UTC))  # 17:00 in Berlin: closed
    assert not hours.is_open(datetime(2026, 12, 4, 7, 59, tzinfo=UTC))  # 08:59 in Berlin
    assert hours.reply_minutes == 240


def test_next_opening_skips_the_weekend_and_keeps_summer_time() -> None:
    hours = parse("Mon-Fri 09:00-17:00", "Europe/Berlin")
    opens = hours.next_open(datetime(2026, 12, 4, 17, 0, tzinfo=UTC))  # Friday 18:00 Berlin
    assert opens.isoformat() == "2026-12-07T09:00:00+01:00"
    # Across the spring change (29 March 2026): Monday 09:00 is 07:00 UTC, not 08:00.
    opens = hours.next_open(datetime(2026, 3, 27, 20, 0, tzinfo=UTC))
    assert opens.astimezone(UTC).isoformat() == "2026-03-30T07:00:00+00:00"


def test_several_parts_wrapping_days_and_midnight() -> None:
    hours = parse("Fri-Mon 10:00-00:00, Wed 08:00-09:30", "UTC")
    assert hours.is_open(datetime(2026, 12, 6, 23, 59, tzinfo=UTC))  # Sunday, until midnight
    assert hours.is_open(datetime(2026, 12, 7, 10, 0, tzinfo=UTC))  # Monday (the range wraps)
    assert not hours.is_open(datetime(2026, 12, 8, 12, 0, tzinfo=UTC))  # Tuesday
    assert hours.is_open(datetime(2026, 12, 9, 9, 29, tzinfo=UTC))  # Wednesday's short part
    assert (
        hours.next_open(datetime(2026, 12, 8, 12, 0, tzinfo=UTC)).isoformat() == "2026-12-09T08:00:00+00:00"
    )


def test_the_notice_says_when_a_person_answers() -> None:
    hours = parse("Mon-Fri 09:00-17:00", "Europe/London", "2h")
    assert "usually replies within 2 hours" in hours.notice(FRIDAY_NOON_UTC)
    friday_evening = hours.notice(datetime(2026, 12, 4, 18, 0, tzinfo=UTC))
    assert "from Monday at 09:00 Europe/London time" in friday_evening
    assert "e-mail" in friday_evening
    assert "from tomorrow at 09:00" in hours.notice(datetime(2026, 12, 3, 20, 0, tzinfo=UTC))
    assert "from today at 09:00" in hours.notice(datetime(2026, 12, 3, 6, 0, tzinfo=UTC))
    shown = hours.to_json(FRIDAY_NOON_UTC)
    assert shown == {
        "hours": "Mon-Fri 09:00-17:00",
        "timezone": "Europe/London",
        "open_now": True,
        "next_open": "2026-12-04T12:00:00+00:00",
        "reply_minutes": 120,
    }


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SUPPORTBOT_OFFICE_HOURS": "weekdays 9-5"}, "'Mon-Fri 09:00-17:00'"),
        ({"SUPPORTBOT_OFFICE_HOURS": "Mon-Fri 17:00-09:00"}, "closes before it opens"),
        ({"SUPPORTBOT_OFFICE_HOURS": "Mon 25:00-26:00"}, "00:00 to 23:59"),
        (
            {"SUPPORTBOT_OFFICE_HOURS": "Mon-Fri 09:00-17:00", "SUPPORTBOT_TIMEZONE": "Berlin"},
            "Europe/London",
        ),
        ({"SUPPORTBOT_OFFICE_HOURS": "Mon-Fri 09:00-17:00", "SUPPORTBOT_REPLY_TIME": "soon"}, "30m, 4h"),
        ({"SUPPORTBOT_REPLY_TIME": "4h"}, "SUPPORTBOT_OFFICE_HOURS"),
        ({"SUPPORTBOT_OFFICE_HOURS": " , "}, "is empty"),
    ],
)
def test_bad_settings_name_the_variable_and_the_fix(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match="SUPPORTBOT_") as caught:
        Settings.from_env(env)
    assert named in str(caught.value)


def test_settings_read_the_three_variables() -> None:
    settings = Settings.from_env(
        {
            "SUPPORTBOT_OFFICE_HOURS": "Mon-Fri 08:30-18:00",
            "SUPPORTBOT_TIMEZONE": "America/New_York",
            "SUPPORTBOT_REPLY_TIME": "90",
        }
    )
    assert settings.office_hours is not None
    assert settings.office_hours.describe() == "Mon-Fri 08:30-18:00 (America/New_York)"
    assert settings.office_hours.reply_text() == "90 minutes"
    assert Settings.from_env({}).office_hours is None
