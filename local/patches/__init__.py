"""Patches of libraries' internals where no public extension point exists: one module per library, each guarded by tests/local/test_patches.py."""  # noqa: E501
