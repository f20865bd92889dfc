"""Reference outputs of torchvision for the C# conformance tests.

Usage: /usr/bin/python3 make_reference.py OUT_DIR

Writes to OUT_DIR:
  efficientnet_b0.pt        state_dict of torchvision.models.efficientnet_b0() after torch.manual_seed(0), BatchNorms
                            calibrated on random batches (see calibrate) (torch.save)
  input.npy                 the fixed input: torch.manual_seed(1); torch.randn(2, 3, 64, 64)
  logits.npy                eval-mode output of the full model (2 x 1000)
  features.npy              eval-mode output of model.features (2 x 1280 x 2 x 2)
  resnet_names.json         {variant: [[name, shape], ...]} of resnet18/34/50 state dicts, and parameter counts
Exit code 3 when torch or torchvision cannot be imported.
"""
import json
import os
import sys

try:
    import numpy as np
    import torch
    import torchvision
except Exception as e:  # noqa: BLE001 - any import failure means "no reference available"
    print(f"missing dependency: {e}", file=sys.stderr)
    sys.exit(3)


def calibrate(model):
    """torchvision's fresh EfficientNet (kaiming fan-out init, BN running stats 0/1) shrinks activations to ~1e-13
    at the output, which would make any comparison pass. Give every BatchNorm random affine parameters and
    running statistics measured on random batches, so the outputs are O(1) and the buffers matter."""
    g = torch.Generator().manual_seed(2)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for bn in bns:
            bn.weight.copy_(torch.rand(bn.weight.shape, generator=g) + 0.5)
            bn.bias.copy_(torch.rand(bn.bias.shape, generator=g) * 0.4 - 0.2)
            bn.reset_running_stats()
            bn.momentum = None  # cumulative average over the calibration batches
        model.train()
        for _ in range(3):
            model(torch.randn(8, 3, 64, 64, generator=g))
        for bn in bns:
            bn.momentum = 0.1


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = torchvision.models.efficientnet_b0()
    calibrate(model)
    model.eval()
    torch.save(model.state_dict(), os.path.join(out, "efficientnet_b0.pt"))

    torch.manual_seed(1)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        logits = model(x)
        features = model.features(x)
    np.save(os.path.join(out, "input.npy"), x.numpy())
    np.save(os.path.join(out, "logits.npy"), logits.numpy())
    np.save(os.path.join(out, "features.npy"), features.numpy())

    names = {}
    for variant in ("resnet18", "resnet34", "resnet50"):
        m = getattr(torchvision.models, variant)()
        names[variant] = {
            "state_dict": [[k, list(v.shape)] for k, v in m.state_dict().items()],
            "parameters": sum(p.numel() for p in m.parameters()),
        }
    with open(os.path.join(out, "resnet_names.json"), "w") as f:
        json.dump(names, f)
    print(f"torch {torch.__version__} torchvision {torchvision.__version__}")


if __name__ == "__main__":
    main(sys.argv[1])
