"""Write (or, with --check, verify) the admin's precompiled Alpine expressions.

The file is apps/admin_toolkit/static/admin_toolkit/js/alpine-expressions.js.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.local")

import django  # noqa: E402

django.setup()

from apps.admin_toolkit.alpine_csp import OUTPUT, build  # noqa: E402

if __name__ == "__main__":
    text = build()
    if "--check" in sys.argv:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            sys.exit(f"{OUTPUT.relative_to(ROOT)} is out of date: run {sys.argv[0]}")
        print(f"{OUTPUT.relative_to(ROOT)} is up to date")
    else:
        OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        OUTPUT.write_text(text)
        print(f"wrote {OUTPUT.relative_to(ROOT)}")
