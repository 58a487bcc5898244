"""Buggy variants of the course's functions, one module per topic.

Each variant has the course's signature and makes exactly one catalogued mistake (see
:mod:`funml.check.catalogue`). Each is self-contained apart from its module's imports, so
it can be pasted into the reference's source as a submission. They are funml's own code:
the grader runs them in its own process to recognise a bug by its outputs.
"""
