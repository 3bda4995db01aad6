"""Where the local runner changes a library's behaviour without a public way: one module per library,
each with a test that fails the day the library changes the shape it relies on
(tests/local/test_patches.py for Powertools, tests/local/test_library_shapes.py for the others)."""
