"""funml: the fundamentals of machine learning on images, tested and reproducible.

Subsystems, one folder each:

- ``funml.data``: data sets (MNIST, Fashion-MNIST, Digits, CSV, photo folders) without torchvision.
- ``funml.scratch``: from-scratch NumPy algorithms, each checked against its library twin.
- ``funml.autodiff``: a small reverse-mode autodiff engine that draws its graph.
- ``funml.nn``: the course's PyTorch models and one training loop.
- ``funml.zoo``: ImageNet-pretrained CNNs for a folder of photos.
- ``funml.experiments``: every course experiment by name, and the HTML report.
"""

__version__ = "0.1.0"
