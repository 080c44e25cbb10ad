"""The peer of throughput_bench: the same models and the same training loop in
PyTorch Python over device-resident tensors (batches gathered by index, batched
augmentation), as a careful PyTorch user would write it. Prints one JSON line."""
import argparse
import gzip
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = os.environ.get("ABLATE_DATA", "/usr/share/datasets/fashion-mnist")


def read_idx(name):
    path = os.path.join(DATA, name)
    opener = gzip.open if os.path.exists(path + ".gz") else open
    with opener(path + ".gz" if os.path.exists(path + ".gz") else path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def act(name):
    return {"relu": nn.ReLU(), "tanh": nn.Tanh(), "gelu": nn.GELU(), "sigmoid": nn.Sigmoid(),
            "leaky_relu": nn.LeakyReLU(0.01)}[name]


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (self.shortcut(x) if self.shortcut is not None else x))


def build(c):
    layers = []
    if c["model"] in ("linear", "mlp"):
        layers.append(nn.Flatten())
        width = 784
        for out in ([] if c["model"] == "linear" else c["hidden"]):
            layers += [nn.Linear(width, out), act(c["activation"])]
            width = out
        layers.append(nn.Linear(width, 10))
    elif c["model"] == "cnn":
        cin, side = 1, 28
        for out in c["channels"]:
            layers += [nn.Conv2d(cin, out, 3, padding=1), act(c["activation"]), nn.MaxPool2d(2)]
            cin, side = out, side // 2
        layers += [nn.Flatten(), nn.Linear(cin * side * side, c["fc_width"]), act(c["activation"]),
                   nn.Linear(c["fc_width"], 10)]
    else:
        w = c["resnet_width"]
        layers += [nn.Conv2d(1, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU()]
        cin = w
        for stage, blocks in enumerate(c["resnet_blocks"]):
            out = w << stage
            for b in range(blocks):
                layers.append(Block(cin, out, 2 if stage > 0 and b == 0 else 1))
                cin = out
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 10)]
    return nn.Sequential(*layers)


def augment(x, c, gen, fill):
    b = x.shape[0]
    if c["augment_shift"] > 0:
        s = c["augment_shift"]
        off = torch.randint(-s, s + 1, (2, b), generator=gen, device=x.device)
        rows = torch.arange(28, device=x.device).view(1, 28, 1) - off[0].view(b, 1, 1)
        cols = torch.arange(28, device=x.device).view(1, 1, 28) - off[1].view(b, 1, 1)
        inside = (rows >= 0) & (rows < 28) & (cols >= 0) & (cols < 28)
        src = (rows.clamp(0, 27) * 28 + cols.clamp(0, 27)).view(b, 1, 784)
        x = torch.where(inside.unsqueeze(1), x.reshape(b, 1, 784).gather(2, src).view(b, 1, 28, 28),
                        torch.full((), fill, device=x.device))
    if c["augment_flip"]:
        flip = torch.rand(b, generator=gen, device=x.device) < 0.5
        x = torch.where(flip.view(b, 1, 1, 1), x.flip(3), x)
    if c["augment_erase"] > 0:
        d = torch.rand(5, b, generator=gen, device=x.device)
        apply = d[0] < c["augment_erase"]
        area = (0.02 + d[1] * (c["augment_erase_max_area"] - 0.02)) * 784
        aspect = torch.exp(math.log(0.3) + d[2] * (math.log(3.3) - math.log(0.3)))
        h = torch.sqrt(area * aspect).round().clamp(1, 28).long()
        w = torch.sqrt(area / aspect).round().clamp(1, 28).long()
        top = (d[3] * (28 - h + 1)).floor().long()
        left = (d[4] * (28 - w + 1)).floor().long()
        r = torch.arange(28, device=x.device).view(1, 28, 1)
        cc = torch.arange(28, device=x.device).view(1, 1, 28)
        mask = ((r >= top.view(b, 1, 1)) & (r < (top + h).view(b, 1, 1)) & (cc >= left.view(b, 1, 1))
                & (cc < (left + w).view(b, 1, 1)) & apply.view(b, 1, 1))
        x = x.masked_fill(mask.unsqueeze(1), fill)
    return x


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--config", required=True, help="canonical config JSON (all keys)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--timed-epochs", type=int, default=2)
    p.add_argument("--channels-last", action="store_true",
                   help="convolutions in NHWC, as ablate trains them on the CPU (run.py passes what ablate used)")
    a = p.parse_args()
    c = json.loads(a.config)
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(c["seed"])
    dev = torch.device(a.device)

    images = torch.from_numpy(read_idx("train-images-idx3-ubyte").copy()).float().div_(255)
    labels = torch.from_numpy(read_idx("train-labels-idx1-ubyte").astype(np.int64))
    n = len(labels) - c["val_size"]
    if c["train_limit"]:
        n = min(n, c["train_limit"])
    x = images[:n].unsqueeze(1)
    mean, std = x.mean(), x.std()
    x = ((x - mean) / std).to(dev).contiguous()
    y = labels[:n].to(dev)
    fill = float(-mean / std)

    # The precision ablate trains in (its `precision` key): TF32 switches on CUDA,
    # bf16 autocast of the forward pass with the loss in float32.
    precision = c.get("precision", "fp32")
    if dev.type == "cuda":
        mode = "tf32" if precision == "tf32" else "ieee"
        torch.backends.cuda.matmul.fp32_precision = mode
        torch.backends.cudnn.conv.fp32_precision = mode

    model = build(c).to(dev)
    if a.channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=c["lr"], momentum=c["momentum"])
    gen = torch.Generator(device=dev).manual_seed(c["seed"])
    bs = c["batch_size"]
    aug = c["augment_shift"] > 0 or c["augment_flip"] or c["augment_erase"] > 0
    times = []
    for epoch in range(a.timed_epochs + 1):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(n, generator=gen, device=dev)
        loss_sum = torch.zeros((), dtype=torch.float64, device=dev)
        correct = torch.zeros((), dtype=torch.float64, device=dev)
        for first in range(0, n, bs):
            idx = order[first:first + bs]
            xb, yb = x.index_select(0, idx), y.index_select(0, idx)
            if aug:
                xb = augment(xb, c, gen, fill)
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
                logits = model(xb)
            batch_loss = F.cross_entropy(logits.float(), yb, reduction="sum")
            opt.zero_grad()
            (batch_loss / len(idx)).backward()
            opt.step()
            loss_sum += batch_loss.detach()
            correct += (logits.detach().argmax(1) == yb).sum()
        total = torch.stack([loss_sum, correct]).cpu()  # the epoch's one host copy
        times.append(time.perf_counter() - start)
        del total
    seconds = sum(times[1:]) / a.timed_epochs
    print(json.dumps({"impl": "pytorch", "device": a.device, "threads": torch.get_num_threads(),
                      "channels_last": a.channels_last,
                      "epoch_seconds": seconds, "images_per_second": n / seconds}))


if __name__ == "__main__":
    main()
