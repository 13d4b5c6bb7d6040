"""The permission matrix: what each role may do in the admin, as data.

The tests in ``test_permission_matrix.py`` check every cell against the running admin, and
``scripts/permission_matrix.py`` renders the same data as the README's table, so the two
cannot drift apart.
"""

ROLES = ("Viewer", "Operator", "Importer", "Admin")

# capability -> roles that have it (every other role must be refused)
MATRIX: dict[str, frozenset[str]] = {
    "dashboard figures": frozenset(ROLES),
    "list orders": frozenset(ROLES),
    "list customers": frozenset(ROLES),
    "list items": frozenset(ROLES),
    "SMS log": frozenset(ROLES),
    "add order": frozenset({"Operator", "Importer", "Admin"}),
    "change order": frozenset({"Operator", "Importer", "Admin"}),
    "delete order": frozenset({"Operator", "Admin"}),
    "add customer": frozenset({"Operator", "Importer", "Admin"}),
    "change customer": frozenset({"Operator", "Importer", "Admin"}),
    "delete customer": frozenset({"Admin"}),
    "add item": frozenset({"Operator", "Importer", "Admin"}),
    "change item": frozenset({"Operator", "Importer", "Admin"}),
    "delete item": frozenset({"Admin"}),
    "resend SMS (action)": frozenset({"Operator", "Admin"}),
    "confirm orders": frozenset({"Operator", "Admin"}),
    "mark orders dispatched": frozenset({"Operator", "Admin"}),
    "mark orders delivered": frozenset({"Operator", "Admin"}),
    "cancel orders": frozenset({"Operator", "Admin"}),
    "add order notes": frozenset({"Operator", "Admin"}),
    "add customer notes": frozenset({"Operator", "Admin"}),
    "import orders": frozenset({"Importer", "Admin"}),
    "import customers": frozenset({"Importer", "Admin"}),
    "import items": frozenset({"Importer", "Admin"}),
    "export orders": frozenset({"Operator", "Importer", "Admin"}),
    "export customers": frozenset({"Operator", "Importer", "Admin"}),
    "export items": frozenset({"Operator", "Importer", "Admin"}),
    "service accounts": frozenset({"Admin"}),
    "sign-in lockouts": frozenset(),
    "users and groups (edit)": frozenset(),
}


def markdown_table() -> str:
    lines = [
        "| capability | " + " | ".join(ROLES) + " |",
        "|---|" + "---|" * len(ROLES),
    ]
    for capability, allowed in MATRIX.items():
        cells = ["✔" if role in allowed else "—" for role in ROLES]
        lines.append(f"| {capability} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
