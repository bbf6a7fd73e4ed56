"""Escalation: the handoff packet, the transactional outbox, its sinks and the delivery worker."""
