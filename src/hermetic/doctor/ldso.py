"""Which file each DT_NEEDED really resolves to, following glibc's ld.so (elf/dl-load.c).

For a name without a slash, ld.so searches, in order:
  1. DT_RPATH of the loading object, then of the object that loaded it, and so on up the
     chain (and the host executable's) -- skipped entirely when the loading object has a
     DT_RUNPATH; an object's own RPATH is void when it has a RUNPATH;
  2. LD_LIBRARY_PATH;
  3. DT_RUNPATH of the loading object only (not inherited);
  4. /etc/ld.so.cache;
  5. the default directories.
In every directory glibc-hwcaps/<level>/ subdirectories come first, and candidates of the
wrong ELF class or machine are skipped. A name that matches an already loaded object (its
load name or SONAME) is not searched again; dependencies are loaded breadth-first.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from hermetic.doctor.elf import ElfInfo, ElfProblem, elf_ident
from hermetic.doctor.ldcache import LdCache

Reader = Callable[[str], "ElfInfo | ElfProblem"]

# Debian/Ubuntu multiarch first, then the lib64 and plain ones other distributions use.
DEFAULT_DIRS_X86_64: tuple[str, ...] = (
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
)


@dataclass(frozen=True)
class Edge:
    source: str  # the object whose DT_NEEDED this is
    name: str  # the DT_NEEDED string
    target: str | None  # the file ld.so opens; None: not found
    via: str  # rpath, ld_library_path, runpath, ld.so.cache, default, direct, loaded, interpreter, missing


@dataclass(frozen=True)
class Closure:
    """Everything one root object pulls into its process, in load order."""

    root: str
    objects: tuple[str, ...]
    edges: tuple[Edge, ...]

    def missing(self) -> tuple[Edge, ...]:
        return tuple(e for e in self.edges if e.target is None)


@dataclass
class _Loaded:
    path: str
    info: ElfInfo | None
    names: set[str]
    loader: _Loaded | None
    identity: tuple[int, int] | None


class Resolver:
    """Resolves closures; memoises directory listings and searches across roots."""

    def __init__(
        self,
        read: Reader,
        *,
        ld_library_path: tuple[str, ...] = (),
        cache: LdCache | None = None,
        hwcaps: tuple[str, ...] = (),
        default_dirs: tuple[str, ...] = DEFAULT_DIRS_X86_64,
        lib_token: str = "lib64",
        platform_token: str = "x86_64",
    ):
        self.read = read
        self.ld_library_path = tuple(d or "." for d in ld_library_path)
        self.cache = cache
        self.hwcaps = hwcaps
        self.default_dirs = default_dirs
        self.lib_token = lib_token
        self.platform_token = platform_token
        self._listing: dict[str, frozenset[str]] = {}
        self._ident: dict[str, tuple[int, int] | None] = {}
        self._search_memo: dict[tuple[object, ...], tuple[str | None, str]] = {}

    # -- the public part ---------------------------------------------------------------
    def closure(self, root: ElfInfo, host: ElfInfo | None = None) -> Closure:
        """`host` is the executable that dlopens `root` (python for an extension module):
        ld.so also tries its DT_RPATH."""
        main = _Loaded(
            root.path, root, _names(root, os.path.basename(root.path)), None, _identity(root.path)
        )
        loaded: list[_Loaded] = [main]
        edges: list[Edge] = []
        interp = root.interp or _default_interp(root)
        i = 0
        while i < len(loaded):
            obj = loaded[i]
            i += 1
            if obj.info is None:
                continue
            for name in obj.info.needed:
                edges.append(self._map(name, obj, loaded, interp, host))
        return Closure(root.path, tuple(o.path for o in loaded), tuple(edges))

    def search(self, name: str, loader: ElfInfo) -> tuple[str | None, str]:
        """Where `name`, needed by `loader` alone (no loader chain), resolves, and by which rule."""
        obj = _Loaded(loader.path, loader, set(), None, None)
        return self._find(name, obj, None)

    # -- ld.so's _dl_map_object --------------------------------------------------------
    def _map(
        self,
        name: str,
        obj: _Loaded,
        loaded: list[_Loaded],
        interp: str | None,
        host: ElfInfo | None,
    ) -> Edge:
        for other in loaded:
            if name in other.names:
                return Edge(obj.path, name, other.path, "loaded")
        if interp and name == os.path.basename(interp):
            return Edge(obj.path, name, interp, "interpreter")
        path, via = self._find(name, obj, host)
        if path is None:
            return Edge(obj.path, name, None, "missing")
        ident = _identity(path)
        for other in loaded:
            if ident is not None and other.identity == ident:
                other.names.add(name)  # the same file under another name is not loaded twice
                return Edge(obj.path, name, other.path, "loaded")
        info = self.read(path)
        new = _Loaded(
            path,
            info if isinstance(info, ElfInfo) else None,
            _names(info if isinstance(info, ElfInfo) else None, name),
            obj,
            ident,
        )
        loaded.append(new)
        return Edge(obj.path, name, path, via)

    def _find(self, name: str, obj: _Loaded, host: ElfInfo | None) -> tuple[str | None, str]:
        info = obj.info
        assert info is not None
        cls, mach = info.elf_class, info.machine
        if "/" in name:
            path = self._expand(name, info.path)
            if path is not None and self._fits(path, cls, mach):
                return path, "direct"
            return None, "missing"

        dirs: list[tuple[str, str]] = []
        if not info.runpath:
            seen_host = False
            chain: _Loaded | None = obj
            while chain is not None:
                if chain.info is not None and not chain.info.runpath:
                    dirs += [(d, "rpath") for d in self._expand_all(chain.info.rpath, chain.path)]
                seen_host |= host is not None and chain.path == host.path
                chain = chain.loader
            if host is not None and not seen_host and not host.runpath:
                dirs += [(d, "rpath") for d in self._expand_all(host.rpath, host.path)]
        dirs += [(d, "ld_library_path") for d in self.ld_library_path]
        dirs += [(d, "runpath") for d in self._expand_all(info.runpath, info.path)]

        key = (name, cls, mach, tuple(dirs))
        hit = self._search_memo.get(key)
        if hit is None:
            hit = self._search_dirs(name, cls, mach, dirs)
            self._search_memo[key] = hit
        return hit

    def _search_dirs(
        self, name: str, cls: int, mach: int, dirs: list[tuple[str, str]]
    ) -> tuple[str | None, str]:
        for d, via in dirs:
            found = self._in_dir(d, name, cls, mach)
            if found:
                return found, via
        if self.cache is not None:
            path = self.cache.lookup(name, cls, mach)
            if path is not None and self._fits(path, cls, mach):
                return path, "ld.so.cache"
        for d in self.default_dirs:
            found = self._in_dir(d, name, cls, mach)
            if found:
                return found, "default"
        return None, "missing"

    def _in_dir(self, d: str, name: str, cls: int, mach: int) -> str | None:
        names = self._list(d)
        if "glibc-hwcaps" in names:
            for level in self.hwcaps:
                sub = os.path.join(d, "glibc-hwcaps", level)
                if name in self._list(sub):
                    path = os.path.join(sub, name)
                    if self._fits(path, cls, mach):
                        return path
        if name in names:
            path = os.path.join(d, name)
            if self._fits(path, cls, mach):
                return path
        return None

    def _list(self, d: str) -> frozenset[str]:
        got = self._listing.get(d)
        if got is None:
            try:
                got = frozenset(os.listdir(d))
            except OSError:
                got = frozenset()
            self._listing[d] = got
        return got

    def _fits(self, path: str, cls: int, mach: int) -> bool:
        if path not in self._ident:
            self._ident[path] = elf_ident(path)
        return self._ident[path] == (cls, mach)

    # -- dynamic string tokens -------------------------------------------------------------
    def _expand_all(self, entries: tuple[str, ...], owner: str) -> list[str]:
        out = []
        for e in entries:
            x = self._expand(e, owner)
            if x is not None:
                out.append(x)
        return out

    def _expand(self, entry: str, owner: str) -> str | None:
        """$ORIGIN, $LIB, $PLATFORM (bare or braced); an unknown token voids the entry, as in ld.so."""
        # Paths stay as ld.so builds them (no lexical "..") so symlinked dirs behave the same.
        if "$" not in entry:
            return entry if entry.startswith("/") else os.path.join(os.getcwd(), entry)
        origin = os.path.dirname(owner)
        out = entry
        for token, value in (
            ("ORIGIN", origin),
            ("LIB", self.lib_token),
            ("PLATFORM", self.platform_token),
        ):
            out = out.replace("${" + token + "}", value).replace("$" + token, value)
        if "$" in out:
            return None
        return out if out.startswith("/") else os.path.join(os.getcwd(), out)


def _names(info: ElfInfo | None, load_name: str) -> set[str]:
    names = {load_name}
    if info is not None and info.soname:
        names.add(info.soname)
    return names


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _default_interp(root: ElfInfo) -> str | None:
    # A shared library has no PT_INTERP; ld.so itself is the interpreter of whatever loads it.
    if root.machine == 62 and root.elf_class == 64:
        return "/lib64/ld-linux-x86-64.so.2"
    if root.machine == 183:
        return "/lib/ld-linux-aarch64.so.1"
    return None


def platform_tokens(root: str = "/") -> tuple[str, str]:
    """($LIB, $PLATFORM) as this glibc expands them."""
    machine = os.uname().machine
    multiarch = f"lib/{machine}-linux-gnu"
    lib = multiarch if os.path.isdir(os.path.join(root, multiarch)) else "lib64"
    return lib, machine
