"""Where the local runner changes a library's behaviour without a public way: one module per library."""
