#!/usr/bin/python3
"""Golden PHOG descriptors and Canny edge maps for @spine/cbir's tests.

An independent port of the reference MATLAB code (anna_phog.m, anna_binMatrix.m,
anna_phogDescriptor.m by Anna Bosch, and edge(I, 'canny') of the Image Processing Toolbox,
R2011a+) to numpy/scipy. It follows MATLAB's structure, not ours: column-major linear indices for
non-maximum suppression (cannyFindLocalMaxima), bwselect as scipy.ndimage.label + selection, the
PHOG cells with the reference's while loops.

Two deliberate choices keep it bit-comparable with the TypeScript (a flipped tie in non-maximum
suppression moves a descriptor value by ~1e-4): float64 everywhere (MATLAB uses single after
im2single), and every sum over kernel taps accumulated tap by tap in the same order
(scipy.ndimage.convolve1d and numpy's pairwise sums round differently). math.exp / math.atan2
(glibc) are used element-wise rather than numpy's vectorised versions.

Inputs are committed sample films (test-data/sample), a nearest-neighbour 3x enlargement of one
(pure indexing, so both sides build the same pixels) and crops; outputs go to
test/fixtures/phog-golden.json (small). Run: npm run golden -w @spine/cbir
"""
import json
import math
import os

import numpy as np
from PIL import Image
from scipy import ndimage

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..', '..'))
SAMPLE = os.path.join(ROOT, 'test-data', 'sample')
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'phog-golden.json')


# ---------------------------------------------------------------- edge(I, 'canny')

def smooth_gradient_kernels(sigma):
    extent = math.ceil(4 * sigma)
    xs = list(range(-extent, extent + 1))
    c = 1 / (math.sqrt(2 * math.pi) * sigma)
    g = [c * math.exp(-(x * x) / (2 * sigma * sigma)) for x in xs]
    s = 0.0
    for v in g:
        s += v
    g = [v / s for v in g]
    n = len(g)
    d = [0.0] * n
    d[0] = g[1] - g[0]
    d[n - 1] = g[n - 1] - g[n - 2]
    for i in range(1, n - 1):
        d[i] = (g[i + 1] - g[i - 1]) / 2
    pos = 0.0
    neg = 0.0
    for v in d:
        if v > 0:
            pos += v
        elif v < 0:
            neg += v
    d = [v / pos if v > 0 else (v / abs(neg) if v < 0 else v) for v in d]
    return np.array(g), np.array(d)


def imfilter_conv_replicate(a, h, axis):
    """imfilter(a, h, 'conv', 'replicate') for a 1-D kernel along `axis`, taps summed in order."""
    e = (len(h) - 1) // 2
    pad = [(0, 0), (0, 0)]
    pad[axis] = (e, e)
    p = np.pad(a, pad, mode='edge')
    size = a.shape[axis]
    acc = np.zeros_like(a)
    for j in range(len(h)):
        # out(i) = sum_j h[j] * a(i + e - j); in the padded array that is index i + 2e - j.
        start = 2 * e - j
        sl = [slice(None), slice(None)]
        sl[axis] = slice(start, start + size)
        acc = acc + h[j] * p[tuple(sl)]
    return acc


def canny(G, sigma=math.sqrt(2)):
    a = G.astype(np.float64) / 255
    g, d = smooth_gradient_kernels(sigma)
    dx = imfilter_conv_replicate(imfilter_conv_replicate(a, g, 0), d, 1)
    dy = imfilter_conv_replicate(imfilter_conv_replicate(a, g, 1), d, 0)
    mag = np.sqrt(dx * dx + dy * dy)
    magmax = mag.max()
    if magmax > 0:
        mag = mag / magmax
    m, n = mag.shape
    # selectThresholds: imhist(mag, 64) -> floor(v * 63 + 0.5)
    z = np.clip(np.floor(mag * 63 + 0.5), 0, 63).astype(int)
    counts = np.bincount(z.ravel(), minlength=64)
    above = np.nonzero(np.cumsum(counts) > 0.7 * m * n)[0]
    high = (above[0] + 1) / 64
    low = 0.4 * high
    # thinAndThreshold with MATLAB's column-major linear indices
    ix = dx.flatten(order='F')
    iy = dy.flatten(order='F')
    mg = mag.flatten(order='F')
    E = np.zeros(m * n, dtype=bool)
    strong = []
    for direction in (1, 2, 3, 4):
        if direction == 1:
            sel = ((iy <= 0) & (ix > -iy)) | ((iy >= 0) & (ix < -iy))
        elif direction == 2:
            sel = ((ix > 0) & (-iy >= ix)) | ((ix < 0) & (-iy <= ix))
        elif direction == 3:
            sel = ((ix <= 0) & (ix > iy)) | ((ix >= 0) & (ix < iy))
        else:
            sel = ((iy < 0) & (ix <= iy)) | ((iy > 0) & (ix >= iy))
        idx = np.nonzero(sel)[0] + 1  # 1-based like MATLAB
        v = np.mod(idx, m)
        ext = (v == 1) | (v == 0) | (idx <= m) | (idx > (n - 1) * m)
        idx = idx[~ext]
        k = idx - 1  # back to 0-based for numpy indexing
        ixv = ix[k]
        iyv = iy[k]
        gm = mg[k]
        if direction == 1:
            dd = np.abs(iyv / ixv)
            g1 = mg[k + m] * (1 - dd) + mg[k + m - 1] * dd
            g2 = mg[k - m] * (1 - dd) + mg[k - m + 1] * dd
        elif direction == 2:
            dd = np.abs(ixv / iyv)
            g1 = mg[k - 1] * (1 - dd) + mg[k + m - 1] * dd
            g2 = mg[k + 1] * (1 - dd) + mg[k - m + 1] * dd
        elif direction == 3:
            dd = np.abs(ixv / iyv)
            g1 = mg[k - 1] * (1 - dd) + mg[k - m - 1] * dd
            g2 = mg[k + 1] * (1 - dd) + mg[k + m + 1] * dd
        else:
            dd = np.abs(iyv / ixv)
            g1 = mg[k - m] * (1 - dd) + mg[k - m - 1] * dd
            g2 = mg[k + m] * (1 - dd) + mg[k + m + 1] * dd
        local_max = k[(gm >= g1) & (gm >= g2)]
        weak = local_max[mg[local_max] > low]
        E[weak] = True
        strong.extend(weak[mg[weak] > high].tolist())
    E = E.reshape((m, n), order='F')
    if not strong:
        return np.zeros((m, n), dtype=bool), low, high
    labels, _ = ndimage.label(E, structure=np.ones((3, 3), dtype=int))
    keep = np.unique(labels.flatten(order='F')[strong])
    keep = keep[keep > 0]
    return np.isin(labels, keep), low, high


# ---------------------------------------------------------------- anna_phog.m

def anna_phog(G, bins, angle, L, roi):
    """roi = [top, bottom, left, right], 1-based inclusive, as in the reference."""
    if G.sum() > 100:
        E, _, _ = canny(G)
        GY, GX = np.gradient(G.astype(np.float64))
        Gr = np.sqrt(GX * GX + GY * GY)
        GX = np.where(GX == 0, 1e-5, GX)
        A = np.zeros_like(Gr)
        ys, xs = np.nonzero(E)
        for y, x in zip(ys, xs):
            if angle == 180:
                A[y, x] = ((math.atan(GY[y, x] / GX[y, x]) + math.pi / 2) * 180) / math.pi
            else:
                A[y, x] = ((math.atan2(GY[y, x], GX[y, x]) + math.pi) * 180) / math.pi
        bh, bv = anna_bin_matrix(A, E, Gr, angle, bins)
    else:
        bh = np.zeros(G.shape)
        bv = np.zeros(G.shape)
    bh_roi = bh[roi[0] - 1:roi[1], roi[2] - 1:roi[3]]
    bv_roi = bv[roi[0] - 1:roi[1], roi[2] - 1:roi[3]]
    return anna_phog_descriptor(bh_roi, bv_roi, L, bins)


def anna_bin_matrix(A, E, G, angle, bins):
    bm = np.zeros(E.shape)
    bv = np.zeros(E.shape)
    n_angle = angle / bins
    ys, xs = np.nonzero(E)
    for y, x in zip(ys, xs):
        b = math.ceil(A[y, x] / n_angle)
        if G[y, x] > 0:
            bm[y, x] = b
            bv[y, x] = G[y, x]
    return bm, bv


def anna_phog_descriptor(bh, bv, L, bins):
    p = []
    for b in range(1, bins + 1):
        p.append(bv[bh == b].sum())
    for l in range(1, L + 1):
        x = bh.shape[1] // (2 ** l)
        y = bh.shape[0] // (2 ** l)
        xx = 0
        while xx + x <= bh.shape[1]:
            yy = 0
            while yy + y <= bh.shape[0]:
                bh_c = bh[yy:yy + y, xx:xx + x]
                bv_c = bv[yy:yy + y, xx:xx + x]
                for b in range(1, bins + 1):
                    p.append(bv_c[bh_c == b].sum())
                yy += y
            xx += x
    p = np.array(p)
    if p.sum() != 0:
        p = p / p.sum()
    return p


# ---------------------------------------------------------------- cases

def load(rel):
    return np.array(Image.open(os.path.join(SAMPLE, rel)).convert('L'), dtype=np.uint8)


def case(name, source, G, transform, bins=8, angle=360, L=3, roi=None):
    h, w = G.shape
    box = roi or {'x': 0, 'y': 0, 'width': w, 'height': h}
    mroi = [box['y'] + 1, box['y'] + box['height'], box['x'] + 1, box['x'] + box['width']]
    p = anna_phog(G, bins, angle, L, mroi)
    E, low, high = canny(G)
    return {
        'name': name,
        'source': source,
        'transform': transform,
        'width': int(w),
        'height': int(h),
        'options': {'bins': bins, 'angle': angle, 'levels': L, **({'roi': roi} if roi else {})},
        'canny': {'low': low, 'high': high, 'edges': np.flatnonzero(E.ravel()).tolist()},
        'descriptor': p.tolist(),
    }


def main():
    g, d = smooth_gradient_kernels(math.sqrt(2))
    cases = []
    for rel in ['cervical-roi/cervical-0003-00000.png', 'cervical-roi/cervical-0003-00007.png', 'cervical/cervical-0001-00003.png', 'lumbar/lumbar-0002-00001.png']:
        cases.append(case(os.path.basename(rel), rel, load(rel), 'none'))
    film = load('cervical-roi/cervical-0003-00011.png')
    big = np.repeat(np.repeat(film, 3, axis=0), 3, axis=1)
    cases.append(case('enlarged 3x', 'cervical-roi/cervical-0003-00011.png', big, 'nearest3x'))
    odd = film[5:5 + 101, 7:7 + 117]
    cases.append(case('odd crop, 180 degrees, 9 bins, L 2', 'cervical-roi/cervical-0003-00011.png', odd, 'crop:7,5,117,101', bins=9, angle=180, L=2))
    cases.append(case('ROI, 360 degrees, 4 bins, L 1', 'cervical/cervical-0001-00003.png', load('cervical/cervical-0001-00003.png'), 'none', bins=4, angle=360, L=1,
                      roi={'x': 20, 'y': 30, 'width': 70, 'height': 90}))
    out = {
        'generator': 'packages/cbir/scripts/make-phog-golden.py (numpy %s, scipy)' % np.__version__,
        'kernels': {'sigma': math.sqrt(2), 'gauss': g.tolist(), 'deriv': d.tolist()},
        'cases': cases,
    }
    tmp = OUT + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(out, f, separators=(',', ':'))
    os.replace(tmp, OUT)
    print('wrote %s: %d cases, %d bytes' % (OUT, len(cases), os.path.getsize(OUT)))


if __name__ == '__main__':
    main()
