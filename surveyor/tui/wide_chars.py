"""Chinese text in a toast or a dialog drawn across the edges of the widgets under it.

Textual's compositor cuts every screen line at every widget's left and right edge, and
divides each layer's line at all of those cuts, its own and those of the widgets beneath it.
A double-width character divided in two becomes two spaces, so a toast over the survey
screen read "这  楼已审核" for "这栋楼已审核": the character over the section list's edge
was gone (Textualize/textual#6357, open in 8.2.8). Here a layer is divided only where it
starts or stops being the front layer, so its own characters stay whole; the cells after a
whole piece are claimed with empty strips, and a partial update writes each piece to its
real end.

Installed once by the app (``install``) and only for the Textual release it was written
against, which ``pyproject.toml`` pins; ``tests/tui/test_wide_chars.py`` fails when a new
release needs it looked at again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import version

from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.strip import Strip

#: The Textual release whose compositor this replaces two methods of.
FOR_TEXTUAL = "8.2.8"
_EMPTY = Strip([], 0)


def install() -> bool:
    """Patch the compositor; False (and nothing changed) under another Textual release."""
    if version("textual") != FOR_TEXTUAL:
        return False
    Compositor._render_chops = _render_chops  # type: ignore[method-assign]
    Compositor.render_partial_update = _render_partial_update  # type: ignore[method-assign]
    return True


def _render_chops(
    self: Compositor, crop: Region, is_rendered_line: Callable[[int], bool]
) -> Sequence[Mapping[int, Strip]]:
    """Each line's pieces by the cut they start at, front layer first (as Textual's own)."""
    cuts = self.cuts
    chops: list[dict[int, Strip | None]] = [dict.fromkeys(line[:-1]) for line in cuts]
    for region, clip, strips in self._get_renders(crop):
        shown = region.intersection(clip)
        first_cut, last_cut = shown.column_span
        for y, strip in zip(shown.line_range, strips, strict=False):
            if is_rendered_line(y):
                own_cuts = [cut for cut in cuts[y] if first_cut <= cut <= last_cut]
                _claim_free_cells(chops[y], own_cuts, strip, shown.x)
    return chops  # type: ignore[return-value]


def _claim_free_cells(
    line: dict[int, Strip | None], own_cuts: list[int], strip: Strip, x: int
) -> None:
    """Give this layer's strip the runs of cells no layer in front of it took, each run as
    one whole piece (at its first cut; the run's other cuts get empty strips)."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for left in own_cuts[:-1]:
        free = line.get(left) is None
        if free and start is None:
            start = left
        elif not free and start is not None:
            runs.append((start, left))
            start = None
    if start is not None:
        runs.append((start, own_cuts[-1]))
    if not runs:
        return
    edges = sorted({edge - x for run in runs for edge in run} - {0})
    pieces = dict(zip([0, *edges], strip.divide(edges), strict=False))
    for start, end in runs:
        piece = pieces.get(start - x)
        if piece is None:  # past the end of a strip shorter than its region
            continue
        line[start] = piece
        for cut in own_cuts:
            if start < cut < end:
                line[cut] = _EMPTY


def _render_partial_update(self: Compositor) -> ChopsUpdate | None:
    """Textual's own, except that each piece ends where its strip ends (a whole piece runs
    past the next cut), so a span inside it is still written."""
    update_regions = self._dirty_regions.copy()
    self._dirty_regions.clear()
    if not update_regions:
        return None
    crop = Region.from_union(update_regions).intersection(self.size.region)
    spans = list(self._regions_to_spans(update_regions))
    is_rendered_line = {y for y, _, _ in spans}.__contains__
    chops = self._render_chops(crop, is_rendered_line)
    ends = [_piece_ends(line, cut_set[1:]) for line, cut_set in zip(chops, self.cuts, strict=True)]
    return ChopsUpdate(chops, spans, ends)


def _piece_ends(line: Mapping[int, Strip | None], cut_ends: list[int]) -> list[int]:
    return [
        end if strip is None else x + strip.cell_length
        for (x, strip), end in zip(line.items(), cut_ends, strict=False)
    ]
