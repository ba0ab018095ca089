"""Expected learning rates of torch.optim.lr_scheduler.ReduceLROnPlateau for the cases the C# tests
replay. Run with /usr/bin/python3 (Debian python3-torch) to regenerate plateau_reference.json."""
import json
import torch

CASES = [
    dict(name="min_rel_patience2", mode="min", factor=0.1, patience=2, threshold=1e-4, threshold_mode="rel",
         cooldown=0, min_lr=0.0, eps=1e-8, lr=0.1,
         metrics=[0.9, 0.8, 0.8, 0.8, 0.8, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]),
    dict(name="min_rel_threshold_blocks_tiny_gains", mode="min", factor=0.5, patience=1, threshold=0.01, threshold_mode="rel",
         cooldown=0, min_lr=0.0, eps=1e-8, lr=1.0,
         metrics=[1.0, 0.995, 0.991, 0.98, 0.979, 0.97, 0.969, 0.968]),
    dict(name="min_abs_threshold", mode="min", factor=0.1, patience=1, threshold=0.05, threshold_mode="abs",
         cooldown=0, min_lr=0.0, eps=1e-8, lr=0.1,
         metrics=[0.50, 0.46, 0.44, 0.40, 0.39, 0.36, 0.34, 0.33]),
    dict(name="max_rel_accuracy", mode="max", factor=0.1, patience=1, threshold=1e-4, threshold_mode="rel",
         cooldown=0, min_lr=0.0, eps=1e-8, lr=0.1,
         metrics=[0.50, 0.60, 0.60, 0.60, 0.65, 0.64, 0.63, 0.70, 0.69]),
    dict(name="max_abs", mode="max", factor=0.5, patience=0, threshold=0.1, threshold_mode="abs",
         cooldown=0, min_lr=0.0, eps=1e-8, lr=0.8,
         metrics=[1.0, 1.05, 1.2, 1.25, 1.5, 1.5]),
    dict(name="cooldown_ignores_bad_epochs", mode="min", factor=0.1, patience=1, threshold=1e-4, threshold_mode="rel",
         cooldown=2, min_lr=0.0, eps=1e-8, lr=0.1,
         metrics=[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]),
    dict(name="min_lr_floor_and_eps", mode="min", factor=0.1, patience=0, threshold=1e-4, threshold_mode="rel",
         cooldown=0, min_lr=0.0005, eps=1e-8, lr=0.1,
         metrics=[1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6]),
    dict(name="eps_blocks_small_change", mode="min", factor=0.5, patience=0, threshold=1e-4, threshold_mode="rel",
         cooldown=0, min_lr=0.0, eps=0.02, lr=0.1,
         metrics=[1.0, 1.1, 1.2, 1.3, 1.4]),
    dict(name="resnet_imagenet_patience5", mode="min", factor=0.1, patience=5, threshold=1e-4, threshold_mode="rel",
         cooldown=0, min_lr=0.0, eps=1e-8, lr=0.1,
         metrics=[0.70, 0.55, 0.48, 0.44, 0.42, 0.41, 0.409, 0.41, 0.412, 0.41, 0.4095, 0.411, 0.4092, 0.30, 0.29, 0.291,
                  0.29, 0.2905, 0.292, 0.2901, 0.2899, 0.2902, 0.291]),
]


def run(case):
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=case["lr"], momentum=0.9)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode=case["mode"], factor=case["factor"], patience=case["patience"],
        threshold=case["threshold"], threshold_mode=case["threshold_mode"], cooldown=case["cooldown"],
        min_lr=case["min_lr"], eps=case["eps"])
    lrs = []
    for metric in case["metrics"]:
        scheduler.step(metric)
        lrs.append(optimizer.param_groups[0]["lr"])
    return dict(case, expected_lrs=lrs)


if __name__ == "__main__":
    out = {"torch_version": torch.__version__, "cases": [run(c) for c in CASES]}
    with open("plateau_reference.json", "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
