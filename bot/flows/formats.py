"""The diagram formats `flows graph` draws, apart from the drawing so the command line can list them cheaply."""

from __future__ import annotations

FORMATS = ("mermaid", "dot", "svg")
