"""funml's verified implementations, wrapped in the course's exact signatures.

One module per topic. Each module holds only imports and definitions, so it is also a
valid submission: checking its source scores full marks (a test does), and a buggy variant
is this source with one definition replaced (:func:`funml.check.catalogue.variant_source`).
The maths comes from :mod:`funml.scratch`, :mod:`funml.autodiff` and torch.
"""
