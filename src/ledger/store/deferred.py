"""The event store's SQLAlchemy models, loaded with the one module of sqlalchemy_utils they use.

eventsourcing-sqlalchemy's models import `sqlalchemy_utils.types.uuid.UUIDType`, and Python runs
a package's `__init__` before any module in it: sqlalchemy_utils' two import every type and
function it has (and with them SQLAlchemy's Oracle, MySQL and SQL Server dialects), about
300 ms of every write command's start-up (issue 16; `python -X importtime`). `load_models()`
imports the library's models while the two packages are registered as bare modules over
their own directories, so the one module they name (and what it imports) loads from its own
file, unchanged; then it takes the two bare packages, and the modules loaded into them, out
of `sys.modules` again. Whoever imports sqlalchemy_utils afterwards gets the whole package as
a plain import makes it (its own `__init__`s, its own modules: a `UUIDType` class of its
own, made from the same file as the one the models hold). Nothing is done where the models
or either package are loaded already.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType

PACKAGES = ("sqlalchemy_utils", "sqlalchemy_utils.types")
MODELS = "eventsourcing_sqlalchemy.models"


def load_models() -> None:
    """Import the library's models with sqlalchemy_utils' `__init__`s left unrun."""
    if MODELS in sys.modules or any(name in sys.modules for name in PACKAGES):
        return
    bare = _bare_packages()
    try:
        importlib.import_module(MODELS)
    finally:
        for name, module in bare.items():  # and each module loaded into them
            if sys.modules.get(name) is module:
                for loaded in [n for n in sys.modules if n.startswith(f"{name}.")]:
                    del sys.modules[loaded]
                del sys.modules[name]


def _bare_packages() -> dict[str, ModuleType]:
    """The two packages as modules over their directories, registered (none where the
    package is not a plain one on disk: the import is then left to Python)."""
    root = importlib.util.find_spec(PACKAGES[0])
    if root is None or root.origin is None or not root.submodule_search_locations:
        return {}
    directory = next(iter(root.submodule_search_locations))
    bare: dict[str, ModuleType] = {}
    for name in PACKAGES:
        path = directory if name == PACKAGES[0] else f"{directory}/types"
        spec = importlib.util.spec_from_file_location(
            name, f"{path}/__init__.py", submodule_search_locations=[path])
        if spec is None:
            break
        bare[name] = sys.modules[name] = importlib.util.module_from_spec(spec)
    return bare
