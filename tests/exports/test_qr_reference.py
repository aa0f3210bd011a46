"""The QR symbols on sheets and labels are standard: the same module matrix as ``qrcode``, an
independent pure-Python encoder, makes for the same text with one of the eight masks.

The print tests decode rendered pages with zxing-cpp, whose encoder also made the symbols; a
fault shared by its encoder and decoder would pass them. ``qrcode`` is the reference here. The
two choose masks by slightly different penalty sums, so the mask is the one thing left free.
"""

from __future__ import annotations

import random

import qrcode
import qrcode.constants

from surveyor.exports.qr import qr_matrix
from surveyor.store.ids import building_uri

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def reference_matrices(text: str) -> list[list[list[bool]]]:
    """qrcode's matrix of ``text`` at error correction M, for each of the eight masks."""
    matrices = []
    for mask in range(8):
        symbol = qrcode.QRCode(
            error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=mask
        )
        symbol.add_data(text)
        symbol.make(fit=True)
        matrices.append(symbol.get_matrix())
    return matrices


def test_building_qr_codes_match_an_independent_encoder() -> None:
    rng = random.Random(2024)
    codes = ["NK-7Q3FK-2M9AB", "NK-00000-00000", "NK-ZZZZZ-ZZZZZ"] + [
        "NK-"
        + "".join(rng.choice(ALPHABET) for _ in range(5))
        + "-"
        + "".join(rng.choice(ALPHABET) for _ in range(5))
        for _ in range(40)
    ]
    for code in codes:
        uri = building_uri(code)
        assert qr_matrix(uri) in reference_matrices(uri), uri


def test_a_different_text_matches_no_reference_matrix() -> None:
    """The comparison can fail: one character changed gives another matrix under every mask."""
    ours = qr_matrix(building_uri("NK-7Q3FK-2M9AB"))
    assert ours not in reference_matrices(building_uri("NK-7Q3FK-2M9AC"))
