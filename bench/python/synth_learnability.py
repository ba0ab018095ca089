"""Sanity check that `plateau data synth` CIFAR output is learnable but not trivial.

Trains a small CNN (3 conv stages, 16/32/64 channels, BN, no augmentation) for a few epochs with
/usr/bin/python3 (Debian python3-torch) and prints test accuracy per epoch. Usage:
    python3 bench/python/synth_learnability.py DIR [epochs]
"""
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load(paths):
    raw = np.concatenate([np.fromfile(p, dtype=np.uint8) for p in paths]).reshape(-1, 3073)
    labels = torch.from_numpy(raw[:, 0].astype(np.int64))
    images = torch.from_numpy(raw[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255.0)
    return (images - 0.5) / 0.25, labels


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.b1 = nn.BatchNorm2d(16)
        self.c2 = nn.Conv2d(16, 32, 3, padding=1, bias=False)
        self.b2 = nn.BatchNorm2d(32)
        self.c3 = nn.Conv2d(32, 64, 3, padding=1, bias=False)
        self.b3 = nn.BatchNorm2d(64)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.b1(self.c1(x))), 2)
        x = F.max_pool2d(F.relu(self.b2(self.c2(x))), 2)
        x = F.relu(self.b3(self.c3(x)))
        return self.fc(x.mean((2, 3)))


def main():
    root = sys.argv[1]
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    torch.manual_seed(0)
    torch.set_num_threads(1)
    xs, ys = load([f"{root}/data_batch_{i}.bin" for i in range(1, 6)])
    xt, yt = load([f"{root}/test_batch.bin"])
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    for epoch in range(epochs):
        start = time.time()
        model.train()
        perm = torch.randperm(len(xs))
        correct = 0
        for i in range(0, len(xs), 128):
            idx = perm[i:i + 128]
            out = model(xs[idx])
            loss = F.cross_entropy(out, ys[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            correct += (out.argmax(1) == ys[idx]).sum().item()
        model.eval()
        with torch.no_grad():
            test = (model(xt).argmax(1) == yt).float().mean().item()
        print(f"epoch {epoch + 1}: train acc {correct / len(xs):.3f}  test acc {test:.3f}  ({time.time() - start:.0f}s)", flush=True)


if __name__ == "__main__":
    main()
