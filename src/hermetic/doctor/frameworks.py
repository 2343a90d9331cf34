"""The ML frameworks an env holds, what CUDA they were built for, and what they really load.

Read from files only (never imported): torch/version.py, jaxlib's version and CUDA plugin
wheels, tensorflow's build_info.py, cupy's wheel name. Each framework has a main GPU library
(libtorch_cuda.so, the XLA CUDA plugin, ...) whose DT_NEEDED closure is its load map and whose
GPU code decides which GPUs it runs on.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
from dataclasses import dataclass
from pathlib import Path

from hermetic.cuda import KNOWN_CCS, cuda_key, sm_name
from hermetic.doctor.fatbin import FatbinInfo, coverage
from hermetic.doctor.runtimes import site_packages


@dataclass(frozen=True)
class Framework:
    name: str  # "torch", "jax", "tensorflow", "cupy"
    version: str
    cuda: str | None  # the CUDA it was built for; None: a CPU-only build (or unknown)
    cpu_only: bool
    installer: str  # "pip", "uv", "conda", ... (the dist-info INSTALLER file)
    gpu_library: str | None  # the library whose closure is the load map
    evidence: str  # the file that told us

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    @property
    def probe(self) -> str:
        """What a user runs to see whether the framework uses the GPU."""
        return PROBES[self.name][0]

    @property
    def fails_as(self) -> str:
        return PROBES[self.name][1]


# framework -> (the call that tells whether it uses the GPU, what that call does when not)
PROBES: dict[str, tuple[str, str]] = {
    "torch": ("torch.cuda.is_available()", "torch.cuda.is_available() will be False"),
    "jax": ("jax.devices('gpu')", "jax.devices('gpu') will raise (JAX falls back to the CPU)"),
    "tensorflow": (
        "tf.config.list_physical_devices('GPU')",
        "tf.config.list_physical_devices('GPU') will be empty",
    ),
    "cupy": (
        "cupy.cuda.runtime.getDeviceCount()",
        "cupy.cuda.runtime.getDeviceCount() will raise",
    ),
}


@dataclass(frozen=True)
class LoadedLib:
    component: str  # "cudart", "cublas", "cudnn", "nccl", ...
    path: str
    version: str | None  # from the file name or the owning distribution


# Load-map components: a file name pattern each. The first match names the component.
LOAD_MAP: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("cudart", re.compile(r"^libcudart\.so")),
    ("cublasLt", re.compile(r"^libcublasLt\.so")),
    ("cublas", re.compile(r"^libcublas\.so")),
    ("cudnn", re.compile(r"^libcudnn\.so")),
    ("nccl", re.compile(r"^libnccl\.so")),
    ("cufft", re.compile(r"^libcufft\.so")),
    ("cusparse", re.compile(r"^libcusparse\.so")),
    ("cusolver", re.compile(r"^libcusolver\.so")),
    ("curand", re.compile(r"^libcurand\.so")),
    ("nvrtc", re.compile(r"^libnvrtc\.so")),
    ("nvjitlink", re.compile(r"^libnvJitLink\.so")),
    ("cusparselt", re.compile(r"^libcusparseLt\.so")),
    ("nvshmem", re.compile(r"^libnvshmem_host\.so")),
    ("cupti", re.compile(r"^libcupti\.so")),
    ("libcuda", re.compile(r"^libcuda\.so")),
)


def find_frameworks(prefix: Path) -> tuple[Framework, ...]:
    out: list[Framework] = []
    conda = _conda_names(prefix)
    for sp in site_packages(prefix):
        for fw in (_torch(sp, conda), _jax(sp, conda), _tensorflow(sp, conda), _cupy(sp, conda)):
            if fw is not None:
                out.append(fw)
    return tuple(dict.fromkeys(out))


def _installer(sp: Path, dist: str, conda: set[str]) -> str:
    for d in sorted(sp.glob(f"{dist}-*.dist-info")):
        with contextlib.suppress(OSError):
            return (d / "INSTALLER").read_text(encoding="utf-8").strip() or "pip"
    return "conda" if conda else "pip"


def _conda_names(prefix: Path) -> set[str]:
    names: set[str] = set()
    with contextlib.suppress(OSError):
        for f in os.listdir(prefix / "conda-meta"):
            if f.endswith(".json"):
                names.add(f.rsplit("-", 2)[0])
    return names


def _torch(sp: Path, conda: set[str]) -> Framework | None:
    vfile = sp / "torch" / "version.py"
    try:
        text = vfile.read_text(encoding="utf-8")
    except OSError:
        return None
    version = _assign(text, "__version__") or "?"
    cuda = _assign(text, "cuda")
    cpu_only = cuda is None or version.endswith("+cpu")
    lib = sp / "torch" / "lib" / "libtorch_cuda.so"
    return Framework(
        "torch",
        version,
        None if cpu_only else cuda_key(cuda or ""),
        cpu_only,
        "conda" if "pytorch" in conda else _installer(sp, "torch", conda),
        str(lib) if lib.exists() else None,
        str(vfile),
    )


def _jax(sp: Path, conda: set[str]) -> Framework | None:
    vfile = sp / "jaxlib" / "version.py"
    try:
        text = vfile.read_text(encoding="utf-8")
    except OSError:
        return None
    version = _assign(text, "_version") or _assign(text, "__version__") or "?"
    plugins = sorted(glob.glob(str(sp / "jax_plugins" / "xla_cuda*" / "*.so")))
    major = None
    for d in sp.glob("jax_cuda*_plugin-*.dist-info"):
        m = re.match(r"jax_cuda(\d+)_plugin", d.name)
        major = m.group(1) if m else major
    cuda = f"{major}.0" if major else None
    return Framework(
        "jax",
        version,
        cuda,
        cuda is None,
        "conda" if "jaxlib" in conda else _installer(sp, "jaxlib", conda),
        plugins[0] if plugins else None,
        str(vfile),
    )


def _tensorflow(sp: Path, conda: set[str]) -> Framework | None:
    info = sp / "tensorflow" / "python" / "platform" / "build_info.py"
    try:
        text = info.read_text(encoding="utf-8")
    except OSError:
        return None
    m = re.search(r"['\"]cuda_version['\"]\s*:\s*['\"]([\d.]+)['\"]", text)
    gpu = re.search(r"['\"]is_cuda_build['\"]\s*:\s*True", text) is not None
    version = "?"
    for d in sp.glob("tensorflow-*.dist-info"):
        version = d.name[len("tensorflow-") : -len(".dist-info")]
    libs = sorted(glob.glob(str(sp / "tensorflow" / "python" / "_pywrap_tensorflow_internal*.so")))
    cuda = cuda_key(m.group(1)) if m and gpu else None
    return Framework(
        "tensorflow",
        version,
        cuda,
        cuda is None,
        _installer(sp, "tensorflow", conda),
        libs[0] if libs else None,
        str(info),
    )


def _cupy(sp: Path, conda: set[str]) -> Framework | None:
    for d in sorted(sp.glob("cupy_cuda*.dist-info")):
        m = re.match(r"cupy_cuda(\d+)(x|\d)-([^-]+)\.dist-info", d.name)
        if not m:
            continue
        libs = sorted(glob.glob(str(sp / "cupy_backends" / "cuda" / "api" / "runtime*.so")))
        return Framework(
            "cupy",
            m.group(3),
            f"{m.group(1)}.{'0' if m.group(2) == 'x' else m.group(2)}",
            False,
            _installer(sp, d.name.split("-", 1)[0], conda),
            libs[0] if libs else None,
            str(d),
        )
    return None


def _assign(text: str, name: str) -> str | None:
    """The string assigned to `name` in a version.py (None for `= None` or no assignment)."""
    m = re.search(rf"^{name}\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", text, re.MULTILINE)
    return m.group(1) if m else None


def load_map(objects: tuple[str, ...], realpath: dict[str, str]) -> tuple[LoadedLib, ...]:
    """The CUDA libraries in a closure, in load order, one per component."""
    seen: set[str] = set()
    out: list[LoadedLib] = []
    for obj in objects:
        base = os.path.basename(obj)
        for comp, pat in LOAD_MAP:
            if pat.match(base) and comp not in seen:
                seen.add(comp)
                real = realpath.get(obj, obj)
                out.append(LoadedLib(comp, real, _file_version(real) or _dist_version(real)))
                break
    order = [c for c, _ in LOAD_MAP]
    return tuple(sorted(out, key=lambda lib: order.index(lib.component)))


def _file_version(path: str) -> str | None:
    m = re.search(r"\.so\.(\d+(?:\.\d+)+)$", os.path.basename(path))
    return m.group(1) if m else None


def _dist_version(path: str) -> str | None:
    """The version of the nvidia-* wheel that installed `path` (from its RECORD)."""
    parts = path.split(os.sep)
    if "site-packages" not in parts:
        return None
    i = parts.index("site-packages")
    sp = os.sep.join(parts[: i + 1])
    rel = "/".join(parts[i + 1 :])
    for rec in glob.glob(os.path.join(sp, "nvidia_*.dist-info", "RECORD")):
        with contextlib.suppress(OSError, UnicodeDecodeError), open(rec, encoding="utf-8") as fh:
            if rel + "," in fh.read():
                return (
                    os.path.basename(os.path.dirname(rec)).removesuffix(".dist-info").split("-")[1]
                )
    return None


def runnable_range(fb: FatbinInfo | None) -> tuple[tuple[int, int], ...]:
    """The known GPUs this code runs on (natively or through PTX)."""
    if fb is None:
        return ()
    return tuple(cc for cc in KNOWN_CCS if coverage(fb, cc) in ("sass", "ptx"))


def range_text(ccs: tuple[tuple[int, int], ...], fb: FatbinInfo | None) -> str | None:
    if not ccs:
        return None
    text = f"{sm_name(ccs[0])}…{sm_name(ccs[-1])}"
    if fb is not None and fb.ptx and ccs[-1] == KNOWN_CCS[-1]:
        text += " (newer through PTX)"
    return text
