"""supportbot: troubleshoot a customer's problem with a decision tree, probes and a human handoff."""

__version__ = "0.1.0"
