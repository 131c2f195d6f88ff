#!/usr/bin/python3
"""The PyTorch side of docs/pytorch.md: the `Net` whose weights onestone serves, and safetensors
state dicts read and written with the standard library plus torch (Debian has no
python3-safetensors; with the `safetensors` package, `safetensors.torch.save_file` and
`load_file` do the same).

    python3 pytorch_state_dict.py --train OUT            # train Net on toy data, save its state dict
    python3 pytorch_state_dict.py --load FILE [--expected FILE]
        # load a state dict (e.g. exported by onestone) with strict=True; with --expected,
        # compare the outputs on its "x" with its "a" and "b"
"""

import argparse
import collections
import json
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}
NAMES = {v: k for k, v in DTYPES.items()}


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = torch.nn.Sequential(collections.OrderedDict(
            fc0=torch.nn.Linear(6, 16), act0=torch.nn.ReLU(),
            fc1=torch.nn.Linear(16, 8), act1=torch.nn.ReLU()))
        self.heads = torch.nn.ModuleDict({"a": torch.nn.Linear(8, 3), "b": torch.nn.Linear(8, 1)})

    def forward(self, x):
        z = self.trunk(x)
        return {k: h(z) for k, h in self.heads.items()}


def load_file(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, e in header.items():
        a, b = e["data_offsets"]
        raw = bytearray(data[8 + n + a:8 + n + b])
        t = torch.frombuffer(raw, dtype=DTYPES[e["dtype"]]) if raw else torch.empty(0, dtype=DTYPES[e["dtype"]])
        out[name] = t.reshape(e["shape"]).clone()
    return out


def save_file(tensors, path):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        blob = t.numpy().tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(blob)]}
        blobs.append(blob)
        off += len(blob)
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text.encode() + b"".join(blobs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train")
    ap.add_argument("--load")
    ap.add_argument("--expected")
    a = ap.parse_args()
    net = Net()
    if a.train:
        torch.manual_seed(0)
        x = torch.randn(512, 6)
        ya, yb = torch.stack([x[:, 0], x[:, 1] * x[:, 2], x.sum(1)], 1), x[:, :1].abs()
        opt = torch.optim.Adam(net.parameters(), lr=1e-2)
        for _ in range(200):
            opt.zero_grad()
            out = net(x)
            loss = torch.nn.functional.mse_loss(out["a"], ya) + torch.nn.functional.mse_loss(out["b"], yb)
            loss.backward()
            opt.step()
        save_file(net.state_dict(), a.train)
        print("trained, loss %.4f, wrote %s" % (loss.item(), a.train))
    if a.load:
        sd = {k: v.float() for k, v in load_file(a.load).items()}
        net.load_state_dict(sd, strict=True)
        print("load_state_dict(strict=True) accepted", len(sd), "tensors from", a.load)
        if a.expected:
            ref = load_file(a.expected)
            with torch.no_grad():
                out = net(ref["x"].float())
            worst = max((out[k].double() - ref[k]).abs().max().item() for k in ("a", "b"))
            print("largest difference from the expected outputs: %.3g" % worst)
            if worst > 1e-5:
                sys.exit(1)


if __name__ == "__main__":
    main()
