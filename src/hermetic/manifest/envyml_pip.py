"""The `pip:` list of an environment.yml, and the requirements files it includes with `-r`.

Each line is a PEP 508 requirement or one of pip's options that decide where packages come
from (`--index-url`, `--extra-index-url`, `--find-links`, `--no-index`, `--only-binary
:all:`). An editable install of a local project (`-e .`) is locked as an editable path dependency
named by its pyproject.toml's `[project] name`; without one (or for a VCS URL) it is a warning.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from hermetic.channel import is_url
from hermetic.manifest.fields import Where, resolve_path
from hermetic.manifest.model import PypiDependency, PypiOptions, SpecWarning
from hermetic.manifest.requirements import editable_project, pypi_from_string
from hermetic.textinput import read_input_text


@dataclass
class PipOptions:
    index_url: str | None = None
    extra: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    no_build: bool = False
    no_index: bool = False

    def build(self) -> PypiOptions:
        return PypiOptions(
            index_url=self.index_url,
            extra_index_urls=tuple(dict.fromkeys(self.extra)),
            find_links=tuple(dict.fromkeys(self.links)),
            no_build=self.no_build,
            no_index=self.no_index,
        )


class PipLines:
    """Reads pip lines into requirements, options and warnings."""

    def __init__(self) -> None:
        self.options = PipOptions()
        self.warnings: list[SpecWarning] = []

    def line(self, line: str, where: Where, base: Path, seen: set[Path]) -> list[PypiDependency]:
        """One line of a pip list or requirements file: a requirement or an option."""
        text = re.sub(r"(^|\s)#.*$", "", line).strip()
        if not text:
            return []
        if not text.startswith("-"):
            if re.match(r"^(\.{0,2}/|~|[A-Za-z][A-Za-z0-9+.-]*://)", text):
                raise where.error(
                    f"pip: {text!r} is a bare path or URL: a lock needs the distribution's name",
                    hint=f"name it: '{_guess_name(text)} @ {_as_url(text, base)}' (with the "
                    "name the project declares; the guess comes from the URL)",
                )
            return [pypi_from_string(text, where)]
        try:
            words = shlex.split(text)
        except ValueError as exc:
            raise where.error(f"pip: cannot split {text!r}: {exc}") from None
        flag, _, value = words[0].partition("=")
        if not value and len(words) > 1:
            value = words[1]
            rest = words[2:]
        else:
            rest = words[1:]
        if re.fullmatch(r"-[irfec][^-=].*", flag):  # -rfile, -ihttps://...
            flag, value, rest = flag[:2], flag[2:], words[1:]
        if rest:
            raise where.error(f"pip: unexpected {' '.join(rest)!r} in {text!r}")
        if flag in ("-e", "--editable"):
            # as `conda env create` does: the project is installed editable (locked by name)
            dep = editable_project(value or ".", where, base)
            if not isinstance(dep, str):
                return [dep]
            self.warnings.append(
                where.warning(
                    f"pip: {text!r} is an editable install of a local project: not locked ({dep})",
                    hint="install it inside the environment (`hermetic run pip install -e "
                    f"{value or '.'}`), or give the project a pyproject.toml with a static "
                    "[project] name (it is then locked as an editable path dependency)",
                )
            )
            return []
        if flag in ("--no-index",):
            if value:
                raise where.error(f"pip: --no-index takes no value: {text!r}")
            self.options.no_index = True
            return []
        if flag == "--only-binary" and value == ":all:":
            self.options.no_build = True
            return []
        takes_value = {
            "-r": "requirement",
            "--requirement": "requirement",
            "-i": "index",
            "--index-url": "index",
            "--extra-index-url": "extra",
            "-f": "links",
            "--find-links": "links",
        }
        what = takes_value.get(flag)
        if what is None:
            raise where.error(
                f"pip: unsupported option {flag!r} in {text!r}",
                hint="supported: -r/--requirement, -i/--index-url, --extra-index-url, "
                "-f/--find-links, --no-index, --only-binary :all:",
            )
        if not value:
            raise where.error(f"pip: {flag} needs a value")
        if what == "index":
            if self.options.index_url and self.options.index_url != value:
                raise where.error(
                    f"pip: a second index URL {value!r} (the first is {self.options.index_url!r})",
                    hint="use --extra-index-url for more indexes",
                )
            self.options.index_url = value
        elif what == "extra":
            self.options.extra.append(value)
        elif what == "links":
            self.options.links.append(value if is_url(value) else resolve_path(value, base))
        else:
            return self.requirements_file(Path(resolve_path(value, base)), where, seen)
        return []

    def requirements_file(self, path: Path, where: Where, seen: set[Path]) -> list[PypiDependency]:
        if path in seen:
            raise where.error(f"pip: {path} includes itself")
        try:  # a regular UTF-8 file of sane size (a FIFO or /dev/zero is refused)
            text = read_input_text(path, what="requirements file")
        except FileNotFoundError:
            raise where.error(f"pip: no such requirements file: {path}") from None
        out: list[PypiDependency] = []
        lines = text.splitlines()
        i = 0
        while i < len(lines):
            start = i
            line = lines[i]
            while line.endswith("\\") and i + 1 < len(lines):  # line continuations
                i += 1
                line = line[:-1] + lines[i]
            i += 1
            w = Where(str(path), start + 1, "requirement")
            out += self.line(line, w, path.parent, seen | {path})
        return out


def _guess_name(url: str) -> str:
    """A likely distribution name for a bare URL: its last path part, without suffixes."""
    tail = re.split(r"[#?]", url)[0].rstrip("/").rsplit("/", 1)[-1].split("@")[0]
    for suffix in (".git", ".whl", ".tar.gz", ".zip"):
        tail = tail.removesuffix(suffix)
    return re.split(r"-\d", tail)[0] or "name"


def _as_url(text: str, base: Path) -> str:
    """A bare path as the file:// URL a PEP 508 requirement needs; a URL as it is."""
    return text if is_url(text) else Path(resolve_path(text, base)).as_uri()
