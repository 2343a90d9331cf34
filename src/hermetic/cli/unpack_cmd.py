"""`hermetic unpack` (defined with pack and bundle in pack_cmd)."""

from hermetic.cli.pack_cmd import unpack_command as command

__all__ = ["command"]
