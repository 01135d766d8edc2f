"""Scaled dot-product attention and nn.MultiheadAttention against PyTorch in float64
(fixtures/golden/attention.json): outputs, attention weights, and the gradients of the inputs
and the projection weights for random upstream gradients."""
import math
import torch
from common import arr, rand, write

g = torch.Generator().manual_seed(2409)
cases = []


def sdpa(q, k, v, mask, causal):
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        L, S = s.shape[-2:]
        s = s + torch.triu(torch.full((L, S), float('-inf'), dtype=s.dtype), diagonal=1)
    if mask is not None:
        s = s + mask
    return torch.softmax(s, -1) @ v


for qs, ks, vs, masked, causal in [((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 7), True, False), ((3, 5, 8), (3, 5, 8), (3, 5, 2), False, True)]:
    q32, k32, v32 = rand(g, *qs), rand(g, *ks), rand(g, *vs)
    m32 = rand(g, qs[-2], ks[-2]) if masked else None
    q, k, v = (t.double().requires_grad_(True) for t in (q32, k32, v32))
    y = sdpa(q, k, v, None if m32 is None else m32.double(), causal)
    up = rand(g, *y.shape).double()
    y.backward(up)
    c = {'op': 'sdpa', 'name': f'sdpa q{list(qs)} k{list(ks)} v{list(vs)} mask={masked} causal={causal}', 'isCausal': causal,
         'q': arr(q32), 'k': arr(k32), 'v': arr(v32), 'g': arr(up), 'y': arr(y), 'dq': arr(q.grad), 'dk': arr(k.grad), 'dv': arr(v.grad)}
    if m32 is not None:
        c['mask'] = arr(m32)
    cases.append(c)

for E, H, L, S, N, batch_first, self_attn, padding, attn_mask in [(8, 2, 5, 6, 3, False, False, True, False), (6, 3, 4, 4, 2, True, True, False, True)]:
    mha = torch.nn.MultiheadAttention(E, H, batch_first=batch_first).double()
    with torch.no_grad():
        for p in mha.parameters():
            p.copy_(rand(g, *p.shape, scale=0.5).double())
    state = {k: arr(v) for k, v in mha.state_dict().items()}
    shape = lambda length: (N, length, E) if batch_first else (length, N, E)
    q32 = rand(g, *shape(L))
    k32 = q32 if self_attn else rand(g, *shape(S))
    v32 = q32 if self_attn else rand(g, *shape(S))
    pad = torch.zeros(N, S, dtype=torch.bool)
    if padding:
        pad[0, -2:] = True
        pad[2, 0] = True
    am32 = rand(g, L, S) if attn_mask else None
    q = q32.double().requires_grad_(True)
    k = q if self_attn else k32.double().requires_grad_(True)
    v = q if self_attn else v32.double().requires_grad_(True)
    out, w = mha(q, k, v, key_padding_mask=pad if padding else None, attn_mask=None if am32 is None else am32.double())
    up = rand(g, *out.shape).double()
    out.backward(up)
    c = {'op': 'mha', 'name': f'MultiheadAttention E={E} heads={H} L={L} S={S} N={N} batchFirst={batch_first} self={self_attn} padding={padding} attnMask={attn_mask}',
         'embedDim': E, 'numHeads': H, 'batchFirst': batch_first, 'self': self_attn, 'state': state, 'query': arr(q32), 'key': arr(k32), 'value': arr(v32),
         'g': arr(up), 'y': arr(out), 'weights': arr(w), 'dquery': arr(q.grad), 'din_proj_weight': arr(mha.in_proj_weight.grad), 'dout_proj.weight': arr(mha.out_proj.weight.grad)}
    if not self_attn:
        c['dkey'] = arr(k.grad)
        c['dvalue'] = arr(v.grad)
    if padding:
        c['keyPaddingMask'] = pad.to(torch.int32).flatten().tolist()
    if am32 is not None:
        c['attnMask'] = arr(am32)
    cases.append(c)
write('attention', cases)
