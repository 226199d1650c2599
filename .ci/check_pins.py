"""Fail if any package pinned in a stack file (``name==version`` lines) is not at that version.

    python .ci/check_pins.py .ci/stacks/colab.txt
"""
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def pins(path: Path) -> dict[str, str]:
    """``{name: version}`` of the ``name==version`` lines of ``path`` (comments and blanks skipped)."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, pinned = line.partition("==")
            found[name.strip()] = pinned.strip()
    return found


def main(path: str) -> int:
    moved = []
    for name, pinned in pins(Path(path)).items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = "not installed"
        if installed != pinned:
            moved.append(f"{name}: pinned {pinned}, installed {installed}")
    for line in moved:
        print(f"{path}: {line}")
    print(f"{path}: {'all' if not moved else 'NOT all'} {len(pins(Path(path)))} pinned packages at their versions")
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
