"""Throughput of ablate's trainer vs the same loop in PyTorch Python, in one run.

For each model (linear, MLP 2x256, CNN, ResNet), with and without augmentation,
runs bench/throughput's C++ program and then pytorch_peer.py with the same config,
device and thread count, and prints one JSON line per pair:
  {"bench": "throughput", "model": ..., "augment": ..., "ablate_epoch_s": ...,
   "pytorch_epoch_s": ..., "ratio": ablate images/s / pytorch images/s}
then one line per model with the augmentation overhead (epoch time with / without - 1).
Targets (issue 2, CPU): ratio >= 1.0 for every model; augmentation overhead <= 0.15.
On a shared machine use --repeats N: each pair runs N times, ablate and the peer
alternating, and the fastest epoch of each counts (noise only ever slows a run down);
every line carries the 1-minute load average at its end.
The peer trains convolutions in the memory format ablate reports it used (NHWC on
the CPU), so the ratio compares the trainers, not the layouts; --peer-nchw keeps
the peer in PyTorch's default NCHW instead."""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

MODELS = {
    "linear": ["model=linear"],
    "mlp_2x256": ["model=mlp", "hidden=256,256"],
    "cnn": ["model=cnn", "channels=32,64", "fc_width=128"],
    "resnet": ["model=resnet", "resnet_width=16", "resnet_blocks=1,1,1"],
}
AUGMENT = ["augment_shift=2", "augment_flip=true", "augment_erase=0.5"]


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", default=os.path.join(ROOT, "build/bench/throughput/throughput_bench"))
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--timed-epochs", type=int, default=2)
    p.add_argument("--conv-images", type=int, default=10000,
                   help="training images per epoch for CNN/ResNet (full 55000 for MLPs); 0 = all")
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--repeats", type=int, default=1,
                   help="runs of each pair, alternating ablate and the peer; the fastest of each counts")
    p.add_argument("--peer-nchw", action="store_true",
                   help="leave the peer's convolutions in NCHW even where ablate uses NHWC")
    p.add_argument("--images", type=int, default=0,
                   help="training images per epoch for every model (0: --conv-images for CNN/ResNet, all for MLPs)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a training key for both trainers, e.g. precision=bf16 or cuda_graphs=false (repeatable)")
    a = p.parse_args()

    for name in a.models.split(","):
        epoch_s = {}
        for augmented in (False, True):
            keys = MODELS[name] + (AUGMENT if augmented else [])
            if a.images:
                keys.append(f"train_limit={a.images}")
            elif name in ("cnn", "resnet") and a.conv_images:
                keys.append(f"train_limit={a.conv_images}")
            keys += a.set
            common = ["--device", a.device, "--threads", str(a.threads), "--timed-epochs", str(a.timed_epochs)]
            ours = peer = None
            for _ in range(a.repeats):
                run = run_json([a.bin, *keys, *common])
                ours = run if ours is None or run["epoch_seconds"] < ours["epoch_seconds"] else ours
                layout = ["--channels-last"] if ours.get("channels_last") and not a.peer_nchw else []
                run = run_json([sys.executable, os.path.join(HERE, "pytorch_peer.py"),
                                "--config", json.dumps(ours["canonical"]), *common, *layout])
                peer = run if peer is None or run["epoch_seconds"] < peer["epoch_seconds"] else peer
            ratio = ours["images_per_second"] / peer["images_per_second"]
            epoch_s[augmented] = ours["epoch_seconds"]
            print(json.dumps({"bench": "throughput", "model": name, "augment": augmented, "device": ours["device"],
                              "threads": ours["threads"], "images_per_epoch": round(ours["images_per_second"] * ours["epoch_seconds"]),
                              "ablate_epoch_s": round(ours["epoch_seconds"], 4),
                              "ablate_images_per_s": round(ours["images_per_second"]),
                              "pytorch_epoch_s": round(peer["epoch_seconds"], 4),
                              "pytorch_images_per_s": round(peer["images_per_second"]),
                              "ratio": round(ratio, 3), "repeats": a.repeats, "set": a.set,
                              "ablate_nhwc": bool(ours.get("channels_last")), "pytorch_nhwc": peer.get("channels_last", False),
                              "load_average": os.getloadavg()[0]}), flush=True)
        overhead = epoch_s[True] / epoch_s[False] - 1
        print(json.dumps({"bench": "augmentation_overhead", "model": name, "overhead": round(overhead, 3),
                          "target": 0.15}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
