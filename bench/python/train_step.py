"""PyTorch side of `plateau-bench train`: the same CPU training step (SGD momentum 0.9, weight decay
1e-4, cross-entropy) on the same network, batch and thread count; prints one JSON line.

Run with Debian's python3-torch and glibc malloc tuned like Plateau's TrainingProcess:
    MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=2147483647 MALLOC_TOP_PAD_=268435456 \
        /usr/bin/python3 bench/python/train_step.py --model se_resnet50 --batch 8 --size 224
"""
import argparse
import json
import statistics
import sys
import time
import os

import torch
from torch import nn
from torchvision.models import resnet

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cifar_resnet  # noqa: E402
import se_resnet  # noqa: E402


def build(name, num_classes):
    if name.endswith("_cifar"):
        depth = int(name[len("resnet"):-len("_cifar")])
        return cifar_resnet.CifarResNet(depth, num_classes)
    if name.startswith("se_resnet"):
        return se_resnet.se_resnet(int(name[len("se_resnet"):]), num_classes)
    if name.startswith("resnet"):
        return getattr(resnet, name)(num_classes=num_classes)
    raise SystemExit(f"train_step.py: unknown model {name}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--classes", type=int, default=None)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=15)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--serve", action="store_true",
                   help="step on request: print 'ready', then one JSON line per 'step' line read from stdin")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    classes = args.classes or (10 if args.model.endswith("_cifar") else 1000)
    model = build(args.model, classes)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(args.batch, 3, args.size, args.size)
    y = torch.randint(classes, (args.batch,))

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

    if args.serve:
        serve(step)
        return

    times = []
    cpu_start = 0.0
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            cpu_start = time.process_time()
        start = time.perf_counter()
        step()
        elapsed = time.perf_counter() - start
        if step >= args.warmup:
            times.append(elapsed * 1000)
    print(json.dumps({
        "model": args.model, "batch": args.batch, "size": args.size, "threads": torch.get_num_threads(),
        "median_ms": statistics.median(times),
        "cpu_ms_per_step": (time.process_time() - cpu_start) * 1000 / args.steps, "min_ms": min(times), "max_ms": max(times),
        "torch": torch.__version__,
    }))


def serve(step):
    """Interleaved measurement: the caller alternates its own steps with ours so that both sides see the
    same machine state (a shared VM drifts by 20% within a minute)."""
    print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        if line.strip() != "step":
            raise SystemExit(f"train_step.py --serve: expected 'step', got {line.strip()!r}")
        cpu = time.process_time()
        start = time.perf_counter()
        step()
        elapsed = time.perf_counter() - start
        print(json.dumps({"ms": elapsed * 1000, "cpu_ms": (time.process_time() - cpu) * 1000}), flush=True)


if __name__ == "__main__":
    main()
