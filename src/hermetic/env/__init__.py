"""Environments under `.hermetic/envs/<name>`: install, activation, run, export, list, tree.

Nothing here prints; functions return frozen dataclasses and raise `HermeticError`s.
The fast paths (is the environment complete? what is its activation script?) import
neither rattler nor uv, so `hermetic run true` starts quickly.
"""
