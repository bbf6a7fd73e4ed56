"""Keeping a customer reachable after a hand-over: contact e-mail, resume tickets, mail both ways."""

__all__: list[str] = []  # import the modules themselves
