"""The package's public names: all there, loaded when first used."""

from __future__ import annotations

import subprocess
import sys

import servicerules


def test_every_public_name_resolves_and_submodules_are_reachable() -> None:
    for name in servicerules.__all__:
        assert getattr(servicerules, name) is not None, name
    assert servicerules.engine.load is servicerules.load  # a submodule, as before the names were lazy
    assert not hasattr(servicerules, "lod")
    assert "load" in dir(servicerules) and "importlib" not in dir(servicerules)


def test_the_command_module_does_not_load_the_engine_on_import() -> None:
    # the command imports the engine inside its Ctrl-C handling, so an early Ctrl-C ends quietly
    code = "import sys, servicerules.cli; print('servicerules.engine' in sys.modules, 'pydantic' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
