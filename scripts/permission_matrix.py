"""Print the role by capability table (README "Roles") from the permission tests' data."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.accounts.permission_matrix import markdown_table

if __name__ == "__main__":
    print(markdown_table())
