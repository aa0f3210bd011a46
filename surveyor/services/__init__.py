"""Service functions: the one place where the TUI, the CLI and sync change data."""
