"""funml: the fundamentals of machine learning on images, tested and reproducible.

Subsystems, one folder each:

- ``funml.data``: data sets (MNIST, Fashion-MNIST, Digits, CSV, photo folders) without torchvision.
- ``funml.scratch``: from-scratch NumPy algorithms, each checked against its library twin.
- ``funml.autodiff``: a small reverse-mode autodiff engine that draws its graph.
- ``funml.nn``: the course's PyTorch models and one training loop.
- ``funml.zoo``: ImageNet-pretrained CNNs for a folder of photos.
- ``funml.experiments``: every course experiment by name, and the HTML report.

In a notebook, start with :func:`funml.run` (one experiment), :func:`funml.run_all`,
:func:`funml.train` (a course model) or :func:`funml.summary`; see :mod:`funml.api`.
They are loaded on first use, so ``import funml`` stays light.
"""

__version__ = "0.1.0"

# The notebook API, by name -> its module; imported on first use.
_API = {
    "run": "funml.api",
    "run_all": "funml.api",
    "train": "funml.api",
    "summary": "funml.api",
    "check": "funml.check",  # the package, callable as the grader (funml.check.api)
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        import importlib

        module = importlib.import_module(_API[name])
        return module if module.__name__ == f"funml.{name}" else getattr(module, name)
    raise AttributeError(f"module 'funml' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_API})
