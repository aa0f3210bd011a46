"""The Footer, with binding descriptions from the message catalog (they are message ids).

It also skips rebuilding itself when the shown bindings did not change: Textual's Footer
recomposes on every focus change, which is the largest cost of moving between fields. Keys
that do not fit the width are left out, the app's own (quit, help, language) first, which the
help screen and the command palette still list: at 80 columns the review's footer ran off the
edge and showed a torn "^p 命" and a stray "f".
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from surveyor.i18n import language, t

#: Textual's own bindings shown in the footer, whose descriptions are English words, not
#: message ids: the message saying each. An open Select list showed "esc Dismiss menu" in
#: the Chinese footer.
TEXTUAL_DESCRIPTIONS = {"Dismiss menu": "footer.dismiss_menu"}


def described(binding: Binding) -> str:
    """A binding's description in the interface language (Textual's own through
    ``TEXTUAL_DESCRIPTIONS``)."""
    return t(TEXTUAL_DESCRIPTIONS.get(binding.description, binding.description))


class CatalogFooter(Footer):
    def __init__(self) -> None:
        super().__init__(show_command_palette=True, compact=True)
        self._shown: tuple[object, ...] | None = None

    def _signature(self) -> tuple[object, ...]:
        return (
            language(),
            self.app.size.width,
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

    def on_resize(self) -> None:
        self.bindings_changed(self.screen)

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        active = self.screen.active_bindings
        palette = None
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        # Focused widget's keys first, then the screen's, then the app's: the last drop first.
        room = self.app.size.width - (self._width(palette.binding) + 2 if palette else 0)
        seen: set[str] = set()
        for _node, binding, enabled, tooltip in active.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            room -= self._width(binding)
            if room < 0:
                break
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                described(binding),
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
        if palette is not None:
            _node, binding, enabled, _tip = palette
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                described(binding),
                binding.action,
                classes="-command-palette",
                disabled=not enabled,
            )

    def _width(self, binding: Binding) -> int:
        """Cells a key takes in the compact footer: "key description ", as Textual lays it."""
        return cell_len(self.app.get_key_display(binding)) + cell_len(described(binding)) + 2
