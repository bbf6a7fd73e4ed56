"""The one error hierarchy of supportbot; every message says what is wrong and how to fix it.

BotError
├── ConfigError        a variable in the environment is missing or malformed
├── FlowError          a flow file cannot be loaded (carries file, line, column)
│   └── FlowNotFound   no flow with that id is loaded
├── InputError         a customer's or caller's input is malformed (bad JSON, unknown choice id)
│   └── KeyReused      an Idempotency-Key sent again with a different message (422)
├── ProbeError         a probe could not run at all (refused target, bad domain)
├── StorageError       the database is unreachable or refused the change
│   ├── NotFound       no such conversation (or the token does not match)
│   └── Conflict       two writers raced for the same conversation
│       └── Duplicate  a unique key is taken (a thread started twice, an event seen before)
└── DeliveryError      an escalation sink refused or failed (may be retried)
"""

from __future__ import annotations

from dataclasses import dataclass


class BotError(Exception):
    """Base of every error supportbot raises on purpose."""


class ConfigError(BotError):
    """Configuration read from the environment is missing or malformed."""


@dataclass(frozen=True)
class Location:
    """Where in a flow file a problem is: 1-based line and column."""

    file: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class FlowError(BotError):
    """A flow failed to load or validate; `problems` lists every one found."""

    def __init__(self, problems: list[tuple[Location, str]]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{loc}: {msg}" for loc, msg in problems))

    @classmethod
    def at(cls, location: Location, message: str) -> FlowError:
        return cls([(location, message)])


class FlowNotFound(BotError):
    """No loaded flow has the requested id (or version)."""


class InputError(BotError):
    """Input from a customer or an API caller is malformed."""


class KeyReused(InputError):
    """An Idempotency-Key sent again with a different request: the client must use a new key."""


class ProbeError(BotError):
    """A probe could not run: the target is refused or the input is not a domain."""


class StorageError(BotError):
    """The database is unreachable or refused the change."""


class NotFound(StorageError):
    """No such conversation, or the token does not belong to it."""


class Conflict(StorageError):
    """Another writer changed the conversation first; retry the turn."""


class Duplicate(Conflict):
    """A row with that unique key exists already: someone else got there first."""


class DeliveryError(BotError):
    """An escalation sink failed; `retry_after` (seconds) is honoured when the sink gave one."""

    def __init__(self, message: str, retry_after: float | None = None, permanent: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent
