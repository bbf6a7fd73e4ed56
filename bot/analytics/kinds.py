"""The analytics events' one vocabulary: the kinds the service and the idle sweep record and reports read."""

from __future__ import annotations

from enum import StrEnum


class EventKind(StrEnum):
    """The `kind` of a row in the events table; the values are what is stored, so they never change.

    Exports and analysis tools read the values: after each customer `answer` come the `step`s it
    entered, in order.
    """

    STARTED = "started"  # a conversation began (no data)
    ANSWER = "answer"  # the customer answered: {"kind": "choice" | "text"}
    STEP = "step"  # a step was entered (its id in `step`)
    MISSED = "missed"  # a typed answer the bot did not understand well: {"text", "why", "guess", "score"}
    PROBE = "probe"  # a check ran: {"id", "status"}
    ESCALATED = "escalated"  # handed to a person: {"reason"}
    ENDED = "ended"  # the flow finished: {"status": "resolved" | "unresolved"}
    FEEDBACK = "feedback"  # a rating or a comment at the end: {"step", "rating"} or {"step", "comment"}
    ABANDONED = "abandoned"  # the idle sweep closed it: {"idle_minutes"}
    RESUMED = "resumed"  # the customer came back to an abandoned conversation (no data)
