"""`hermetic doctor`: the GPU and native-library stack of an environment, from its files.

The layer returns data (`DoctorReport`) and never prints; `hermetic.cli.doctor_cmd` renders it.
Nothing here imports or runs code from the inspected environment.
"""

from hermetic.doctor.report import DoctorReport
from hermetic.doctor.run import DoctorOptions, run_doctor

__all__ = ["DoctorOptions", "DoctorReport", "run_doctor"]
