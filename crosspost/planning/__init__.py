"""Planning: when posts fall due, written down as planned publications; what check and plan show.

Its modules compute fire times with APScheduler's triggers, whose helpers module would
import ``asyncio`` for nothing: it is imported here first, without it.
"""

from crosspost.planning.triggers import import_util_without_asyncio

import_util_without_asyncio()
