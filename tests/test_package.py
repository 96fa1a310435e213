"""The package docstring is the module map: it names every module of ``search/``."""

from __future__ import annotations

from pathlib import Path

import search


def test_the_package_docstring_names_every_module() -> None:
    modules = sorted(p.stem for p in Path(search.__file__).parent.glob("*.py")
                     if not p.stem.startswith("__"))
    assert modules
    missing = [m for m in modules if f"``{m}``" not in (search.__doc__ or "")]
    assert not missing, f"modules missing from search/__init__.py's map: {missing}"


def test_the_readme_module_table_lists_every_module() -> None:
    readme = (Path(search.__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    modules = sorted(p.stem for p in Path(search.__file__).parent.glob("*.py")
                     if not p.stem.startswith("__"))
    missing = [m for m in modules if f"| `search/{m}.py` |" not in readme]
    assert not missing, f"modules missing from the README's 'How it works' table: {missing}"
