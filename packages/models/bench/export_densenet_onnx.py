"""Exports torchvision's DenseNet-121 to ONNX for the ONNX Runtime peer (densenet-peers-bench.mjs).

    /usr/bin/python3 packages/models/bench/export_densenet_onnx.py OUT_DIR

Writes into OUT_DIR (the bench passes <repo>/.cache/bench/densenet121-onnx, which git ignores;
the files are some 30 MB each and are regenerated, never committed):
  densenet121.onnx   the eval-mode network, input 'input' [N, 3, 224, 224] with N dynamic,
                     output 'logits' [N, 1000]; opset 17, which ONNX Runtime's CPU and WebGPU
                     providers both run
  densenet121.pth    the same weights as a state dict (zip format), for our engine to load
  densenet121.json   what was exported (torch and torchvision versions, opset, seed)

No download: densenet121(weights=None) with a fixed seed. torchvision's initialisation leaves
BatchNorm at weight 1, bias 0, running mean 0 and variance 1, which makes every eval-mode
BatchNorm the identity; seeded values replace them so that the comparison of logits between
engines exercises the running statistics and the affine terms as trained weights would.
Each file is written under a temporary name and renamed, the .json last: the bench takes the
export as complete only when the .json is there.
"""
import inspect
import json
import os
import sys

import torch
import torchvision

SEED = 0
OPSET = 17


def build():
    torch.manual_seed(SEED)
    net = torchvision.models.densenet121(weights=None)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
        net.classifier.bias.uniform_(-0.1, 0.1)
    return net.eval()


def export(net, path):
    kwargs = dict(
        input_names=['input'],
        output_names=['logits'],
        dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}},
        opset_version=OPSET,
        do_constant_folding=True,
    )
    # torch >= 2.5 also has a dynamo-based exporter (needs onnxscript); the TorchScript one is
    # the one every version since 1.x shares.
    if 'dynamo' in inspect.signature(torch.onnx.export).parameters:
        kwargs['dynamo'] = False
    torch.onnx.export(net, torch.zeros(1, 3, 224, 224), path, **kwargs)


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: export_densenet_onnx.py OUT_DIR')
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    net = build()
    tmp = f'.tmp-{os.getpid()}'
    files = {name: os.path.join(out, f'densenet121.{name}') for name in ('onnx', 'pth', 'json')}
    export(net, files['onnx'] + tmp)
    torch.save(net.state_dict(), files['pth'] + tmp)
    with open(files['json'] + tmp, 'w') as f:
        json.dump({'model': 'torchvision densenet121(weights=None)', 'seed': SEED, 'opset': OPSET, 'torch': torch.__version__, 'torchvision': torchvision.__version__}, f)
    for name in ('onnx', 'pth', 'json'):
        os.replace(files[name] + tmp, files[name])


if __name__ == '__main__':
    main()
