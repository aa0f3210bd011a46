"""The Footer, with binding descriptions from the message catalog (they are message ids).

It also skips rebuilding itself when the shown bindings did not change: Textual's Footer
recomposes on every focus change, which is the largest cost of moving between fields.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from surveyor.i18n import language, t


class CatalogFooter(Footer):
    def __init__(self) -> None:
        super().__init__(show_command_palette=True, compact=True)
        self._shown: tuple[object, ...] | None = None

    def _signature(self) -> tuple[object, ...]:
        return (
            language(),
            tuple(
                (binding.key, binding.description, enabled)
                for (_, binding, enabled, _tip) in self.screen.active_bindings.values()
                if binding.show
            ),
        )

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        signature = self._signature()
        if signature != self._shown:
            self._shown = signature
            self.call_after_refresh(self.recompose)

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        active = self.screen.active_bindings
        seen: set[str] = set()
        for _node, binding, enabled, tooltip in active.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                t(binding.description),
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            entry = active.get(self.app.COMMAND_PALETTE_BINDING)
            if entry is not None:
                _node, binding, enabled, _tip = entry
                yield FooterKey(
                    binding.key,
                    self.app.get_key_display(binding),
                    t(binding.description),
                    binding.action,
                    classes="-command-palette",
                    disabled=not enabled,
                )
