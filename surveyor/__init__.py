"""Surveyor: offline-first census of existing residential buildings.

The core (forms, store, services, exports) never imports textual; the TUI lives in
``surveyor.tui`` and drives the core through ``surveyor.services``.
"""

__version__ = "0.1.0"
