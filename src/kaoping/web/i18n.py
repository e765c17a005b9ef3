"""Compile the project's .po catalogues to .mo at set-up (no gettext tools needed on the machine)."""

from __future__ import annotations

from pathlib import Path

import polib

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def compile_translations(package_dir: Path = PACKAGE_DIR) -> int:
    """The project catalogue (``kaoping/locale``) and any app's own (``kaoping/<app>/locale``)."""
    count = 0
    for po_path in sorted(package_dir.glob("**/locale/*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
        count += 1
    return count
