"""The declared dependencies match the stacks CI tests: the floors are exactly the floor stack's pins,
and Colab's current runtime satisfies every range as it is (so installing bdl-tf changes nothing)."""
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def _pins(name):
    pins = {}
    for line in (ROOT / ".ci" / "stacks" / f"{name}.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            package, _, version = line.partition("==")
            pins[package.lower()] = Version(version)
    return pins


def _requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    plain = [Requirement(text) for text in project["dependencies"]]
    offline = [Requirement(text) for text in project["optional-dependencies"]["offline"]]
    return plain, offline


def _floor(requirement):
    floors = [Version(spec.version) for spec in requirement.specifier if spec.operator == ">="]
    assert len(floors) == 1, f"{requirement} needs exactly one >= floor"
    return floors[0]


def test_the_declared_floors_are_the_floor_stack():
    plain, offline = _requirements()
    floor = _pins("floor")
    for requirement in plain + offline:
        assert floor.get(requirement.name.lower()) == _floor(requirement), requirement
    assert set(floor) == {r.name.lower() for r in plain + offline}


def test_colabs_runtime_satisfies_every_range_as_it_is():
    plain, offline = _requirements()
    colab = _pins("colab")
    for requirement in plain + offline:
        assert requirement.name.lower() in colab, f"{requirement.name} is not in Colab's runtime list"
        assert requirement.specifier.contains(colab[requirement.name.lower()]), (requirement, colab[requirement.name.lower()])


def test_the_pinned_development_set_satisfies_every_range():
    plain, offline = _requirements()
    constraints = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        package, _, version = line.partition("==")
        constraints[package.strip().lower().replace("_", "-")] = Version(version)
    for requirement in plain + offline:
        assert requirement.specifier.contains(constraints[requirement.name.lower()]), requirement
