"""Throwaway targets that price one idea each; measured with ``--target NAME=MODULE:APP``.

Not peers and not part of the default run: each answers a question about where
microraab's overhead over the raw callable goes (docs/benchmarks.md, "Where the overhead
is: two experiments").
"""
