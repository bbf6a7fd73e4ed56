"""Helpers the tests share, one module per layer: `from tests.support.web import live_server, build_app`.

Fixtures stay in each folder's `conftest.py`, where pytest finds them; the stand-ins for the outside world
(DNS, SMTP, Slack's Web API) are in `tests.fakes`.
"""
