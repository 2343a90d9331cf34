"""Every bad input of the security review gets one message, a non-zero exit, no traceback.

One row per case: the files a user could have, the command they run, what the message
must say. The commands run as a user runs them (a subprocess, a timeout for what used to
hang), offline against a one-package channel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hermetic.condapkg import PackageSpec, build_channel

BOMB_YAML = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, bytes | str]
    args: tuple[str, ...]
    says: tuple[str, ...] = ()  # substrings of stderr
    setup: Callable[[Path], None] | None = field(default=None, compare=False)
    exit_codes: tuple[int, ...] = (1, 2)


def _toml(channel: str, extra: str = "", deps: str = 'tiny = "*"', raw: bool = False) -> str:
    quoted = f'"{channel}"' if raw else json.dumps(channel)
    return f'channels = [{quoted}]\nplatforms = ["linux-64"]\n{extra}\n[dependencies]\n{deps}\n'


def _yml(channel: str, extra: str = "") -> str:
    return f"name: t\nchannels: [{json.dumps(channel)}]\nplatforms: [linux-64]\ndependencies:\n  - tiny\n{extra}"


def _fifo(root: Path) -> None:
    os.mkfifo(root / "spec.toml")


def _garble_lock_channel(root: Path) -> None:
    _run(root, "lock")
    lock = root / "hermetic.lock"
    text = lock.read_text()
    url = text.split("- url: ", 1)[1].split("\n", 1)[0]
    lock.write_text(text.replace(f"- url: {url}", "- url: https://[[a]]x.invalid/c/", 1))


def _locked(root: Path) -> None:
    _run(root, "lock")


def _corrupt_lock(data: bytes) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        _run(root, "lock")
        (root / "hermetic.lock").write_bytes((root / "hermetic.lock").read_bytes() + data)

    return setup


def _rename_env_in_lock(root: Path) -> None:
    _run(root, "lock")
    lock = root / "hermetic.lock"
    lock.write_text(lock.read_text().replace("  default:\n", "  ../../../x:\n", 1))


def cases(channel: Path) -> list[Case]:
    ch = str(channel)
    return [
        Case(
            "nul-in-value",
            {"hermetic.toml": _toml(ch, deps='tiny = "1.0\\u0000"')},
            ("lock",),
            ("NUL",),
        ),
        Case(
            "nul-in-channel-path",
            {"hermetic.toml": _toml(ch + "\\u0000x", raw=True)},
            ("lock",),
            ("NUL",),
        ),
        Case("nul-byte-in-file", {"hermetic.toml": _toml(ch) + "\0"}, ("lock",), ("NUL", ":6")),
        Case(
            "toml-nesting-10k",
            {"hermetic.toml": _toml(ch) + "x = " + "[" * 10000 + "]" * 10000},
            ("lock",),
            ("hermetic.toml",),
        ),
        Case(
            "toml-nesting-1k",
            {"hermetic.toml": _toml(ch) + "x = " + "{a=" * 1000 + "1" + "}" * 1000},
            ("lock",),
            ("hermetic.toml",),
        ),
        Case(
            "yaml-nesting-10k",
            {"environment.yml": _yml(ch, "x: " + "[" * 10000 + "]" * 10000 + "\n")},
            ("lock",),
            ("environment.yml", "nested"),
        ),
        Case(
            "yaml-control-char",
            {"environment.yml": _yml(ch, "x: a\x01b\n")},
            ("lock",),
            ("environment.yml:6",),
        ),
        Case(
            "yaml-beyond-unicode",
            {"environment.yml": _yml(ch).encode() + b"x: \xf4\x9f\xbf\xbf\n"},
            ("lock",),
            ("environment.yml:6", "UTF-8"),
        ),
        Case("yaml-alias-bomb", {"environment.yml": _yml(ch) + BOMB_YAML}, ("lock",), ("alias",)),
        Case(
            "r-file-not-utf8",
            {
                "environment.yml": _yml(ch, "  - pip:\n    - -r req.txt\n"),
                "req.txt": b"numpy\n\xff\xfe\n",
            },
            ("lock",),
            ("req.txt:2", "UTF-8"),
        ),
        Case(
            "r-file-dev-zero",
            {"environment.yml": _yml(ch, "  - pip:\n    - -r /dev/zero\n")},
            ("lock",),
            ("/dev/zero", "regular file"),
        ),
        Case("m-fifo", {}, ("lock", "-m", "spec.toml"), ("regular file",), setup=_fifo),
        Case(
            "spec-over-8mib",
            {"hermetic.toml": _toml(ch) + "# " + "x" * (9 << 20) + "\n"},
            ("lock",),
            ("KiB",),
        ),
        Case(
            "lock-not-utf8-install",
            {"hermetic.toml": _toml(ch)},
            ("install", "--frozen"),
            ("hermetic.lock", "UTF-8"),
            setup=_corrupt_lock(b"\n# \xff\n"),
        ),
        Case(
            "lock-not-utf8-list",
            {"hermetic.toml": _toml(ch)},
            ("list",),
            ("hermetic.lock", "UTF-8"),
            setup=_corrupt_lock(b"\n# \xff\n"),
        ),
        Case(
            "lock-not-utf8-export",
            {"hermetic.toml": _toml(ch)},
            ("export", "-f", "explicit"),
            ("hermetic.lock", "UTF-8"),
            setup=_corrupt_lock(b"\n# \xff\n"),
        ),
        Case(
            "lock-not-utf8-check",
            {"hermetic.toml": _toml(ch)},
            ("check",),
            ("hermetic.lock", "UTF-8"),
            setup=_corrupt_lock(b"\n# \xff\n"),
        ),
        Case(
            "lock-not-utf8-lock",
            {"hermetic.toml": _toml(ch)},
            ("lock", "--check"),
            ("hermetic.lock", "UTF-8"),
            setup=_corrupt_lock(b"\n# \xff\n"),
        ),
        Case(
            "lock-alias-bomb",
            {"hermetic.toml": _toml(ch)},
            ("install", "--frozen"),
            ("alias",),
            setup=_corrupt_lock(
                ("  bomb:\n" + "".join(f"    {line}\n" for line in BOMB_YAML.splitlines())).encode()
            ),
        ),
        Case(
            "lock-env-name-escape",
            {"hermetic.toml": _toml(ch)},
            ("install", "--frozen", "-e", "../../../x"),
            ("../../../x",),
            setup=_rename_env_in_lock,
        ),
        Case(
            "channel-with-bracket",
            {"hermetic.toml": _toml("https://example.invalid/ch[1")},
            ("lock",),
            ("channel",),
        ),
        # found by the nightly fuzz budget (tests/security/test_fuzz_readers.py)
        Case(
            "channel-ipv6-garbage",
            {"hermetic.toml": _toml("https://[[a]]example.invalid/conda")},
            ("lock",),
            ("hermetic.toml:1", "channel URL is not valid"),
        ),
        Case(
            "channel-port-not-a-number",
            {"hermetic.toml": _toml("https://user:s3cret@example.invalid:abc/conda")},
            ("lock",),
            ("hermetic.toml:1", "channel URL is not valid"),
        ),
        Case(
            "channel-path-name-too-long",
            {"environment.yml": _yml("c" + "{a=" * 90 + "./channel")},
            ("lock", "-m", "environment.yml"),
        ),
        Case(
            "lock-channel-url-garbage",
            {"hermetic.toml": _toml(ch)},
            ("install", "--frozen"),
            ("hermetic.lock", "channel URL is not valid"),
            setup=_garble_lock_channel,
        ),
        Case(
            "ftp-channel",
            {"hermetic.toml": _toml("ftp://example.invalid/conda")},
            ("lock",),
            ("ftp://example.invalid/conda",),
        ),
        Case(
            "export-over-lock",
            {"hermetic.toml": _toml(ch)},
            ("export", "-f", "explicit", "-o", "hermetic.lock"),
            ("hermetic.lock",),
            setup=_locked,
        ),
        Case(
            "export-over-manifest",
            {"hermetic.toml": _toml(ch)},
            ("export", "-f", "explicit", "-o", "hermetic.toml"),
            ("hermetic.toml",),
            setup=_locked,
        ),
    ]


def _run(root: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NO_COLOR="1", HERMETIC_CACHE_DIR=str(root.parent / "cache"))
    env.pop("CONDA_PREFIX", None)
    return subprocess.run(
        [sys.executable, "-m", "hermetic", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = PackageSpec("tiny", "1.0", subdir="noarch", noarch="generic", files={"share/t": b"t"})
    return build_channel(tmp_path_factory.mktemp("bad-input-channel"), [spec])


_IDS = [c.id for c in cases(Path("/x"))]


@pytest.mark.parametrize("case_id", _IDS)
def test_bad_input_gets_one_clean_message(tmp_path: Path, channel: Path, case_id: str) -> None:
    case = next(c for c in cases(channel) if c.id == case_id)
    root = tmp_path / "proj"
    root.mkdir()
    for name, content in case.files.items():
        path = root / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    if case.setup is not None:
        case.setup(root)
    proc = _run(root, *case.args, timeout=60)
    out = proc.stdout + proc.stderr
    assert proc.returncode in case.exit_codes, out
    assert "Traceback" not in out and "panicked" not in out, out
    assert "s3cret" not in out, out  # a credential in a bad URL is never echoed
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, out  # one message (progress lines may come before it)
    for text in case.says:
        assert text in proc.stderr, out
    assert not (tmp_path / "x").exists()


def test_full_disk_during_lock_names_the_path(tmp_path: Path, channel: Path) -> None:
    """A lock written onto a full file system: the message names the file, no traceback."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root, as in CI)")
    try:
        root = disk / "proj"
        root.mkdir()
        (root / "hermetic.toml").write_text(_toml(str(channel)))
        with open(disk / "filler", "wb", buffering=0) as fh:  # fill the file system
            try:
                while True:
                    fh.write(b"\0" * 4096)
            except OSError:
                pass
        env = dict(os.environ, NO_COLOR="1", HERMETIC_CACHE_DIR=str(tmp_path / "cache"))
        proc = subprocess.run(
            [sys.executable, "-m", "hermetic", "lock"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr
        assert "No space left on device" in proc.stderr
        assert str(root / "hermetic.lock") in proc.stderr
        assert not (root / "hermetic.lock").exists()
    finally:
        subprocess.run(["umount", str(disk)], check=False)
