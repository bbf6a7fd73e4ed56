"""The one Jinja2 environment flows are read and rendered with: sandboxed, immutable, lenient on missing slots."""

from __future__ import annotations

from jinja2 import ChainableUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

# Immutable: a template may read slots but never change them (no list.append in a condition).
# ChainableUndefined: `port25.details.size` on a missing slot renders empty instead of raising.
ENV = ImmutableSandboxedEnvironment(undefined=ChainableUndefined, autoescape=False)
