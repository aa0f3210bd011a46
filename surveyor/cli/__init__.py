"""The ``surveyor`` command: the scriptable face of everything the TUI does."""
