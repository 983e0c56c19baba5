"""Users and authentication: accounts, sessions, tokens, API keys (server-owned).

Read: ``service.py`` (sign-up, sign-in, rotation, resets) → ``authenticate.py`` (how a
request becomes a :class:`~rustok_core.auth.Principal`) → ``models.py``.
"""
