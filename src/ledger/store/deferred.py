"""sqlalchemy_utils, loaded a module at a time: the event store's recorder needs one column type.

eventsourcing-sqlalchemy's models import `sqlalchemy_utils.types.uuid.UUIDType`, and Python runs
a package's `__init__` before any module in it: sqlalchemy_utils' two import every type and
function it has (and with them SQLAlchemy's ORM, Oracle, MySQL and SQL Server dialects), about
150 ms of every write command's start-up (issue 16; `python -X importtime`). `defer()` registers
the two packages as modules over their own directories before that import, so it loads the
module it names (and what that imports) from its own file, unchanged; the first use of any
other name of either package runs that package's own `__init__` into it, so a caller that
wants the whole package still gets it. Nothing is done if either package is already loaded.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import Any

PACKAGES = ("sqlalchemy_utils", "sqlalchemy_utils.types")


def defer() -> None:
    """Register sqlalchemy_utils and its `types` package without running their `__init__`s."""
    if any(name in sys.modules for name in PACKAGES):
        return
    root = importlib.util.find_spec(PACKAGES[0])
    if root is None or root.origin is None or not root.submodule_search_locations:
        return  # not installed, or not a plain package: the import is left to Python
    directory = next(iter(root.submodule_search_locations))
    for name in PACKAGES:
        path = directory if name == PACKAGES[0] else f"{directory}/types"
        spec = importlib.util.spec_from_file_location(
            name, f"{path}/__init__.py", submodule_search_locations=[path])
        if spec is None or spec.loader is None:
            return
        module = importlib.util.module_from_spec(spec)
        module.__getattr__ = _completing(module)  # type: ignore[method-assign]
        sys.modules[name] = module
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)


def _completing(module: ModuleType) -> Any:
    """A module `__getattr__` (PEP 562) that runs the package's own `__init__` once, then
    answers from it."""
    def __getattr__(name: str) -> Any:  # noqa: N807 - the name PEP 562 gives it
        if name.startswith("__") and name != "__all__":
            raise AttributeError(name)
        del module.__getattr__  # the package's own names from now on
        spec = module.__spec__
        assert spec is not None
        assert spec.loader is not None
        spec.loader.exec_module(module)
        return getattr(module, name)
    return __getattr__
