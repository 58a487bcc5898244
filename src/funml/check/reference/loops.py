"""The course's training and evaluation loops, in torch.

The model returns logits; the loss is cross-entropy. ``test_one_epoch`` reports the mean
loss per test sample, whatever the batch sizes, measured in evaluation mode without
gradients; it never changes the model.
"""

import torch
import torch.nn.functional as F


def train_one_epoch(train_loader, model, device, optimizer, log_interval, epoch):
    """One pass over train_loader; return (losses, counter, num_correct)."""
    model.train()
    losses, counter, num_correct = [], [], 0
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.cross_entropy(output, target)
        loss.backward()
        optimizer.step()
        num_correct += int((output.argmax(dim=1) == target).sum())
        if batch_idx % log_interval == 0:
            losses.append(loss.item())
            seen = batch_idx * train_loader.batch_size + (epoch - 1) * len(train_loader.dataset)
            counter.append(seen)
    return losses, counter, num_correct


def test_one_epoch(test_loader, model, device):
    """Return (mean loss per test sample, number of correct predictions)."""
    model.eval()
    total, num_correct = 0.0, 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            total += F.cross_entropy(output, target, reduction="sum").item()
            num_correct += int((output.argmax(dim=1) == target).sum())
    return total / len(test_loader.dataset), num_correct


def misclassified_images(test_loader, model, device, n_images=20):
    """Indices into the test set of the first n_images misclassified samples."""
    model.eval()
    indices, seen = [], 0
    with torch.no_grad():
        for data, target in test_loader:
            wrong = model(data.to(device)).argmax(dim=1) != target.to(device)
            indices += (seen + torch.nonzero(wrong).flatten()).tolist()
            seen += len(target)
    return indices[:n_images]
