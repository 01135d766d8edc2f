"""Write fixtures/onnx/tiny-densenet.onnx: the tiny DenseNet of fixtures/weights/tiny.zip.pth as ONNX.

Run with Debian's PyTorch 1.13 and torchvision 0.14 after make-weights-files.py:
    /usr/bin/python3 packages/models/scripts/make-tiny-onnx.py
CI only reads the committed file (a few kB): test/onnx-peer.test.ts runs it in ONNX Runtime and
the same state dict in our DenseNet and compares the logits, the check that the DenseNet-121 peer
benchmark (bench/densenet-peers-bench.mjs) makes at full size. Same exporter settings as
bench/export_densenet_onnx.py: opset 17, eval mode, input 'input' with a dynamic batch, output 'logits'.
"""
import os

import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
WEIGHTS = os.path.normpath(os.path.join(HERE, '..', 'fixtures', 'weights', 'tiny.zip.pth'))
OUT = os.path.normpath(os.path.join(HERE, '..', 'fixtures', 'onnx', 'tiny-densenet.onnx'))
TINY = dict(growth_rate=4, block_config=(1, 2), num_init_features=8, bn_size=2, num_classes=3)


def main():
    net = torchvision.models.DenseNet(**TINY)
    net.load_state_dict(torch.load(WEIGHTS))
    net.eval()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    torch.onnx.export(net, torch.zeros(1, 3, 32, 32), OUT, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=17, do_constant_folding=True)
    print(f'{OUT} {os.path.getsize(OUT)} bytes')


if __name__ == '__main__':
    main()
