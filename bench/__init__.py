"""Deskboard's benchmarks: its speed measured against the limit of its own database.

``python -m bench`` (``make bench``) runs the cases in ``bench/cases``, prints one table and
writes ``bench/results.json``. Every figure is Deskboard's time (or memory) beside a baseline
measured in the same run on the same data, so the ratio holds on a noisy machine. The small
size of each case runs in the test suite (``tests/bench``) and checks that Deskboard's
numbers equal the baseline's.
"""
