"""`hermetic doctor --lock` on a real hermetic.lock: check a locked env against a cluster driver."""

from __future__ import annotations

import json

from clirun import hermetic
from projects import base_spec, write_spec


def test_lock_checked_against_a_what_if_driver(tmp_path, conda_channel):
    write_spec(
        tmp_path,
        base_spec(conda_channel, 'gpukernel = "*"', extra='[system-requirements]\ncuda = "12.6"'),
    )
    hermetic("lock", cwd=tmp_path)

    old = hermetic("doctor", "--lock", "--driver", "535.104.05", "--json", cwd=tmp_path, check=1)
    report = json.loads(old.stdout)
    ids = {f["id"]: f for f in report["findings"]}
    assert "lock.cuda-above-driver" in ids
    assert "560.28.03" in ids["lock.cuda-above-driver"]["hint"]  # CUDA 12.6's minimum driver
    assert any(r["component"] == "cuda-version" and r["cuda"] == "12.6" for r in report["runtimes"])

    new = hermetic("doctor", "--lock", "--driver", "560.35.03", "--json", cwd=tmp_path, check=0)
    assert not [f for f in json.loads(new.stdout)["findings"] if f["severity"] == "error"]
