"""`hermetic bundle` (defined with pack and unpack in pack_cmd)."""

from hermetic.cli.pack_cmd import bundle_command as command

__all__ = ["command"]
