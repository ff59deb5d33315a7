"""Sign-in: users and API tokens (:mod:`.store`), kept with the data or in a file of their own, and
the gate, login page and sessions that protect every page and route (:mod:`.web`)."""
from __future__ import annotations

from .web import check_serving, init_app

__all__ = ["check_serving", "init_app"]
