"""Buggy variants of the course's evaluation loops."""

import torch
import torch.nn.functional as F


def test_one_epoch_steps(test_loader, model, device):
    """Back-propagates and steps an optimizer on the test set: evaluation trains."""
    model.eval()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    total, num_correct = 0.0, 0
    for data, target in test_loader:
        optimizer.zero_grad()
        output = model(data.to(device))
        loss = F.cross_entropy(output, target.to(device))
        loss.backward()
        optimizer.step()
        total += loss.item() * len(target)
        num_correct += int((output.argmax(dim=1) == target).sum())
    return total / len(test_loader.dataset), num_correct


def test_one_epoch_one_batch(test_loader, model, device):
    """Loss and accuracy of the first batch only, reported as the test figures."""
    model.eval()
    with torch.no_grad():
        data, target = next(iter(test_loader))
        output = model(data.to(device))
        loss = F.cross_entropy(output, target.to(device)).item()
        num_correct = int((output.argmax(dim=1) == target).sum())
    return loss, num_correct


def test_one_epoch_mean_of_means(test_loader, model, device):
    """The mean of the batch means: a smaller last batch weighs too much."""
    model.eval()
    total, num_correct = 0.0, 0
    with torch.no_grad():
        for data, target in test_loader:
            output = model(data.to(device))
            total += F.cross_entropy(output, target.to(device)).item()
            num_correct += int((output.argmax(dim=1) == target).sum())
    return total / len(test_loader), num_correct


def test_one_epoch_train_mode(test_loader, model, device):
    """No model.eval(): dropout stays on while measuring."""
    total, num_correct = 0.0, 0
    with torch.no_grad():
        for data, target in test_loader:
            output = model(data.to(device))
            total += F.cross_entropy(output, target.to(device), reduction="sum").item()
            num_correct += int((output.argmax(dim=1) == target).sum())
    return total / len(test_loader.dataset), num_correct


def misclassified_images_error_count(test_loader, model, device, n_images=20):
    """Stores the running error count as the index, so right answers are shown."""
    model.eval()
    indices, n_errors = [], 0
    with torch.no_grad():
        for data, target in test_loader:
            predictions = model(data.to(device)).argmax(dim=1)
            for p, t in zip(predictions, target, strict=True):
                if p != t:
                    indices.append(n_errors)
                    n_errors += 1
    return indices[:n_images]
