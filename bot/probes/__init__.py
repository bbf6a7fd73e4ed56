"""Live probes of a customer's mail setup (DNS, SMTP, TLS, blocklists): the only code that touches the network."""

from bot.probes.live import LiveProbes, diagnose
from bot.probes.report import Report
from bot.probes.run import Timeouts

__all__ = ["LiveProbes", "Report", "Timeouts", "diagnose"]
