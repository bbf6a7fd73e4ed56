"""The conversation engine: pure state, slots and replies over compiled flows; no network, no database."""
