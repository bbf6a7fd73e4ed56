"""Channels translate between a medium (terminal, web, Slack) and the core; they hold no flow logic."""
