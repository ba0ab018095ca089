"""PyTorch side of Plateau's weight interop tests (Debian python3-torch / python3-torchvision).

  make-import DIR MODEL CLASSES   torchvision MODEL with random weights and BatchNorm statistics, eval mode:
                                  DIR/weights.safetensors (state dict WITHOUT num_batches_tracked) and
                                  DIR/probe.safetensors (input, logits) for Plateau to load and compare.
  check-export DIR MODEL CLASSES  DIR/model.safetensors (exported by Plateau) into torchvision MODEL with
                                  load_state_dict(strict=True); its eval logits on DIR/probe.safetensors'
                                  input must match the probe's logits (Plateau's) within float32 tolerance.

safetensors is read and written here by hand (8-byte little-endian header length, JSON header, packed
little-endian data): Debian has no python3-safetensors.
"""
import json
import struct
import sys

import torch
import torchvision

DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "I64": torch.int64, "I32": torch.int32}
NAMES = {v: k for k, v in DTYPES.items()}
RTOL = 1e-4
ATOL = 1e-4


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    base = 8 + length
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(data[base + begin:base + end]), dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])
    return tensors, header.get("__metadata__", {})


def save(path, tensors):
    header, chunks, offset = {}, [], 0
    for name, tensor in tensors.items():
        raw = tensor.detach().contiguous().cpu().numpy().tobytes()
        header[name] = {"dtype": NAMES[tensor.dtype], "shape": list(tensor.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)


def model(name, classes):
    return getattr(torchvision.models, name)(num_classes=classes)


def make_import(folder, name, classes):
    torch.manual_seed(7)
    net = model(name, classes)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
                module.num_batches_tracked.fill_(123)
    net.eval()
    state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    probe = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        logits = net(probe)
    save(f"{folder}/weights.safetensors", state)
    save(f"{folder}/probe.safetensors", {"input": probe, "logits": logits})
    print(f"wrote {len(state)} tensors (no num_batches_tracked)")


def check_export(folder, name, classes):
    state, metadata = load(f"{folder}/model.safetensors")
    probe, _ = load(f"{folder}/probe.safetensors")
    net = model(name, classes)
    net.load_state_dict(state, strict=True)
    net.eval()
    with torch.no_grad():
        logits = net(probe["input"])
    difference = (logits - probe["logits"]).abs().max().item()
    close = torch.allclose(logits, probe["logits"], rtol=RTOL, atol=ATOL)
    print(f"loaded {len(state)} tensors strictly; format={metadata.get('format')}; max |logit difference| {difference:.3g}; {'match' if close else 'MISMATCH'}")
    return 0 if close else 1


if __name__ == "__main__":
    mode, folder, name, classes = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if mode == "make-import":
        make_import(folder, name, classes)
        sys.exit(0)
    sys.exit(check_export(folder, name, classes))
