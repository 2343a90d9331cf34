"""Which NVIDIA driver each CUDA release needs, as data.

Source: NVIDIA CUDA Toolkit Release Notes, "Table 3: CUDA Toolkit and Corresponding Driver
Versions" (Linux x86_64, the GA release of each minor) and "Table 2: CUDA Toolkit and Minimum
Required Driver Version for CUDA Minor Version Compatibility".
https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html

To add a release: append one line to MIN_DRIVER_GA (and a floor to MINOR_COMPAT_FLOOR for a new
major). Nothing else in the doctor needs to change.
"""

from __future__ import annotations

# CUDA major.minor -> the Linux driver its GA toolkit shipped with (Table 3).
MIN_DRIVER_GA: dict[str, str] = {
    "11.0": "450.36.06",
    "11.1": "455.23",
    "11.2": "460.27.03",
    "11.3": "465.19.01",
    "11.4": "470.42.01",
    "11.5": "495.29.05",
    "11.6": "510.39.01",
    "11.7": "515.43.04",
    "11.8": "520.61.05",
    "12.0": "525.60.13",
    "12.1": "530.30.02",
    "12.2": "535.54.03",
    "12.3": "545.23.06",
    "12.4": "550.54.14",
    "12.5": "555.42.02",
    "12.6": "560.28.03",
    "12.8": "570.26",
    "12.9": "575.51.03",
    "13.0": "580.65.06",
    "13.1": "590.44.01",
}

# CUDA major -> the oldest driver that runs any minor of it through minor version
# compatibility (Table 2). Below it, only forward compatibility (cuda-compat) helps.
MINOR_COMPAT_FLOOR: dict[int, str] = {
    11: "450.80.02",
    12: "525.60.13",
    13: "580",
}


def version_tuple(version: str) -> tuple[int, ...]:
    """'535.104.05' -> (535, 104, 5); junk parts stop the parse (a what-if may be sloppy)."""
    out: list[int] = []
    for part in version.strip().split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        if not digits:
            break
        out.append(int(digits))
    return tuple(out)


def cuda_key(version: str) -> str | None:
    """'12.1.105' -> '12.1'; None when it is not a CUDA-like version."""
    parts = version_tuple(version)
    if len(parts) >= 2:
        return f"{parts[0]}.{parts[1]}"
    if len(parts) == 1:
        return f"{parts[0]}.0"
    return None


def min_driver_for(cuda: str) -> str | None:
    """The driver a CUDA minor needs without any compatibility mode.

    An unlisted minor (e.g. 12.7, never released) takes the next listed one of its major.
    """
    key = cuda_key(cuda)
    if key is None:
        return None
    if key in MIN_DRIVER_GA:
        return MIN_DRIVER_GA[key]
    want = version_tuple(key)
    later = [k for k in MIN_DRIVER_GA if version_tuple(k)[0] == want[0] and version_tuple(k) > want]
    return MIN_DRIVER_GA[min(later, key=version_tuple)] if later else None


def minor_compat_floor(cuda: str) -> str | None:
    parts = version_tuple(cuda)
    return MINOR_COMPAT_FLOOR.get(parts[0]) if parts else None


def max_cuda_for_driver(driver: str) -> str | None:
    """The newest CUDA minor whose GA driver requirement `driver` meets."""
    have = version_tuple(driver)
    if not have:
        return None
    ok = [k for k, v in MIN_DRIVER_GA.items() if version_tuple(v) <= have]
    return max(ok, key=version_tuple) if ok else None


def cuda_int_to_str(value: int) -> str:
    """The driver API's integer form: 12040 -> '12.4'."""
    return f"{value // 1000}.{(value % 1000) // 10}"
