"""The conversation engine: compiles flows, keeps the registry of versions, and runs pure state, slots and replies; no network, no database."""
