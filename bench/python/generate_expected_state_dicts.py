"""Writes the state_dict keys, shapes, dtypes, parameter counts and multiply-adds of torchvision's
ResNets (and the timm-layout SE-ResNets of se_resnet.py) for Plateau's model tests.

Run once with Debian's python3-torchvision:
    /usr/bin/python3 bench/python/generate_expected_state_dicts.py tests/Plateau.Models.Tests/TestData/torch_state_dicts.json
"""
import json
import sys

import torch
import torchvision
from torchvision.models import resnet

import se_resnet


def describe(model):
    return {
        "state_dict": [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in model.state_dict().items()],
        "parameters": sum(p.numel() for p in model.parameters()),
        "multiply_adds": se_resnet.multiply_adds(model),
    }


def v1(model):
    """Paper's ResNet v1: the stride of down-sampling bottlenecks moves from the 3x3 to the first 1x1."""
    for layer in (model.layer2, model.layer3, model.layer4):
        block = layer[0]
        block.conv1.stride, block.conv2.stride = (2, 2), (1, 1)
    return model


def main(path):
    torch.manual_seed(0)
    out = {"torch": torch.__version__, "torchvision": torchvision.__version__, "models": {}}
    for depth in (18, 34, 50, 101, 152):
        out["models"][f"resnet{depth}"] = describe(getattr(resnet, f"resnet{depth}")())
        out["models"][f"se_resnet{depth}"] = describe(se_resnet.se_resnet(depth))
    for depth in (50, 101, 152):
        out["models"][f"resnet{depth}_v1"] = describe(v1(getattr(resnet, f"resnet{depth}")()))
    with open(path, "w") as f:
        json.dump(out, f, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
