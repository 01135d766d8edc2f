"""torch.nn.functional.interpolate, nearest and bilinear (align_corners) against PyTorch
(fixtures/golden/upsample.json): outputs and input gradients for a random upstream gradient.
Nearest runs in float32 (its neighbour choice is float32 arithmetic; the output is a copy),
bilinear in float64."""
import torch
import torch.nn.functional as F
from common import arr, rand, write

g = torch.Generator().manual_seed(2406)
cases = []
for shape, mode, kw in [
    ((2, 3, 3, 4), 'nearest', {'size': (7, 5)}),
    ((1, 2, 4, 5), 'nearest', {'scale_factor': 2.0}),
    ((2, 1, 5, 3), 'nearest', {'scale_factor': 1.7}),
    ((1, 3, 5, 7), 'nearest', {'size': (2, 3)}),
    ((2, 2, 3, 4), 'bilinear', {'size': (7, 5), 'align_corners': False}),
    ((1, 3, 4, 3), 'bilinear', {'size': (6, 9), 'align_corners': True}),
    ((2, 1, 5, 6), 'bilinear', {'scale_factor': 2.0, 'align_corners': False}),
    ((1, 2, 6, 5), 'bilinear', {'scale_factor': 0.6, 'align_corners': False}),
    ((1, 1, 4, 4), 'bilinear', {'size': (1, 3), 'align_corners': True}),
]:
    x32 = rand(g, *shape)
    dtype = torch.float32 if mode == 'nearest' else torch.float64
    x = x32.to(dtype).requires_grad_(True)
    y = F.interpolate(x, mode=mode, **kw)
    up = rand(g, *y.shape).to(dtype)
    y.backward(up)
    args = {'mode': mode}
    if 'size' in kw:
        args['size'] = list(kw['size'])
    if 'scale_factor' in kw:
        args['scaleFactor'] = kw['scale_factor']
    if 'align_corners' in kw:
        args['alignCorners'] = kw['align_corners']
    cases.append({'name': f'{mode} {list(shape)} {kw}', 'args': args, 'x': arr(x32), 'g': arr(up), 'y': arr(y), 'dx': arr(x.grad)})
write('upsample', cases)
