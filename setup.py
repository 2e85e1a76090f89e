"""Which packages the wheel holds: the plugin, and the gate suites of ``suites/`` as ``wimmelgate_suites``.

Everything else is in pyproject.toml. pyproject.toml alone cannot list found packages next to a package
mapped from a folder of another name (``package-dir``); the suites keep their folder (``suites/``) and install
under a name of their own, so ``pytest --pyargs wimmelgate_suites`` runs them from an installed package.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[*find_namespace_packages(include=["pytest_wimmelgate*"], exclude=["*.__pycache__"]), "wimmelgate_suites"],
    package_dir={"wimmelgate_suites": "suites"},
)
