"""report.pdf: the report page printed by headless Chromium (Debian's `chromium` package).

Chromium renders the same self-contained HTML the auditor opens, so the PDF
and the page never differ. Started with no network, no sandbox, a throwaway
profile.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ledger.domain.errors import LedgerError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage")


def chromium() -> str:
    """The Chromium to print with: $LEDGER_CHROMIUM, or the first on PATH."""
    chosen = os.environ.get("LEDGER_CHROMIUM") or next(
        (found for name in CANDIDATES if (found := shutil.which(name))), "")
    if not chosen:
        msg = ("report.pdf needs Chromium (apt-get install chromium, or set LEDGER_CHROMIUM); "
               "or export with --no-pdf")
        raise LedgerError(msg)
    return chosen


def print_pdf(html: Path, pdf: Path, timeout: float = 120) -> None:
    """Print `html` to `pdf`."""
    with tempfile.TemporaryDirectory(prefix="ledger-chromium-") as profile:
        command = [chromium(), *FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
                   f"--print-to-pdf={pdf}", html.resolve().as_uri()]
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=timeout)
        except (OSError, subprocess.SubprocessError) as exc:
            msg = f"Chromium could not print report.pdf: {exc}"
            raise LedgerError(msg) from None
    if not pdf.exists() or pdf.stat().st_size == 0:
        msg = "Chromium wrote no report.pdf"
        raise LedgerError(msg)
