"""Sync and merge: the change-log fold, file merges, laptop sync, conflicts (sync-merge.md §4).

UI-free: nothing here imports textual. ``fold`` is the pure oracle; ``merge`` applies it
incrementally to a database, one transaction per file or batch.
"""
