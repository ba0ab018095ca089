"""torchvision baseline for `plateau-bench data`.

ImageFolder + RandomResizedCrop(224) + RandomHorizontalFlip + ToTensor + Normalize, batches of 32,
DataLoader with num_workers 0 and 2, over the same JPEGs the C# benchmark writes
(default /tmp/plateau-bench-data). Prints images/s. Usage:
    /usr/bin/python3 bench/python/data_torchvision.py [DIR] [epochs]
"""
import os
import sys
import time

import torch
from torchvision import datasets, transforms


def rate(dataset, workers, epochs):
    loader = torch.utils.data.DataLoader(dataset, batch_size=32, shuffle=True, num_workers=workers)
    for _ in loader:  # warm-up epoch (page cache, worker start)
        pass
    start = time.time()
    cpu = time.process_time()
    n = 0
    for _ in range(epochs):
        for images, _labels in loader:
            n += images.shape[0]
    wall = time.time() - start
    cpu = time.process_time() - cpu
    # CPU time of this process only: meaningful for num_workers=0 (workers are separate processes).
    return n / wall, (f"{n / cpu:.0f}" if workers == 0 else "n/a")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "/tmp/plateau-bench-data"
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    torch.set_num_threads(1)
    normalize = transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
    train = transforms.Compose([
        transforms.RandomResizedCrop(224),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        normalize,
    ])
    dataset = datasets.ImageFolder(root, train)
    print(f"{len(dataset)} images in {root}; torch {torch.__version__}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| torchvision RandomResizedCrop(224) + flip + ToTensor + Normalize | num_workers | img/s | img per CPU-s |")
    print("|---|---|---|---|")
    for workers in (0, 2):
        per_second, per_cpu = rate(dataset, workers, epochs)
        print(f"| batch 32 | {workers} | {per_second:.0f} | {per_cpu} |", flush=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
