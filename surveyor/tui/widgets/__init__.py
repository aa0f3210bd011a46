"""Reusable widgets of the inspector app (each carries its own DEFAULT_CSS)."""
