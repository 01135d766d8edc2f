"""PyTorch CPU peer of seqcnn-bench.mjs: the paper's sequential CNN (PAPER_SEQCNN of @spine/models)
built with torch.nn, timed as a training step (cross-entropy, backward, SGD momentum 0.9, weight
decay 5e-4) and as an eval-mode forward without grad. Reads the cases as JSON on stdin (each with
'batch', 'size', 'train' and the model config 'model'), prints {'torch', 'threads', 'device', 'ms'}
like bench/torch_peer.py, whose timing and runner it uses. Run by seqcnn-bench.mjs with /usr/bin/python3."""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'bench'))
from torch_peer import DEVICE, model_runner, run_peer  # noqa: E402


def sequential_cnn(c):
    """The same layers as SequentialCNN (sequential-cnn.ts): conv -> ReLU (-> LRN after conv1 and
    conv2), or with c['batchNorm'] conv (no bias) -> BatchNorm2d -> ReLU."""
    c1, c2, c3, c4, c5 = c['channels']
    bn = c.get('batchNorm', False)
    def conv(i, o, k, stride, padding, lrn):
        if bn:
            return [nn.Conv2d(i, o, k, stride, padding, bias=False), nn.BatchNorm2d(o), nn.ReLU()]
        norm = [nn.LocalResponseNorm(c['lrn']['size'], c['lrn']['alpha'], c['lrn']['beta'], c['lrn']['k'])] if lrn else []
        return [nn.Conv2d(i, o, k, stride, padding), nn.ReLU(), *norm]
    pool = lambda: nn.MaxPool2d(3, 2)
    k1 = c['conv1']
    features = nn.Sequential(
        *conv(c['inChannels'], c1, k1['kernel'], k1['stride'], k1['padding'], True), pool(),
        *conv(c1, c2, 3, c['conv2']['stride'], c['conv2']['padding'], True), pool(),
        *conv(c2, c3, 3, 1, 1, False), *conv(c3, c4, 3, 1, 1, False), *conv(c4, c5, 3, 1, 1, False), pool())
    with torch.no_grad():
        flat = features(torch.zeros(1, c['inChannels'], c['inputSize'], c['inputSize'])).numel()
    h6, h7 = c['hidden']
    classifier = nn.Sequential(nn.Flatten(), nn.Linear(flat, h6), nn.ReLU(), nn.Dropout(c['dropout']), nn.Linear(h6, h7), nn.ReLU(), nn.Dropout(c['dropout']), nn.Linear(h7, c['numClasses']))
    return nn.Sequential(features, classifier).to(DEVICE)


def make(case):
    m = sequential_cnn(case['model'])
    x = torch.randn(case['batch'], case['model']['inChannels'], case['size'], case['size'], device=DEVICE)
    return model_runner(m, x, case['train'], weight_decay=5e-4)


def main():
    run_peer(make)


if __name__ == '__main__':
    main()
