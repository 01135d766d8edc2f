"""Write small checkpoints with torch.save for the serialization tests.

Run with Debian's PyTorch 1.13:  /usr/bin/python3 packages/nn/scripts/make-torch-files.py
Writes packages/nn/fixtures/torch/*.pth and expected.json (every tensor's dtype, shape and values,
as PyTorch itself reads them back). CI only reads the committed files; it never runs PyTorch.
Values are seeded, so a rerun writes the same tensors and the same zip files; legacy files differ
byte-wise between runs because torch names their storages after memory addresses.
"""
import collections
import json
import os
import pickle
import zipfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, '..', 'fixtures', 'torch'))


class SmallNet(torch.nn.Module):
    """conv + bn + linear: the parameter and buffer kinds a DenseNet state dict holds."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 3, 3)
        self.bn = torch.nn.BatchNorm2d(3)
        self.fc = torch.nn.Linear(12, 2)

    def forward(self, x):
        return self.fc(torch.relu(self.bn(self.conv(x))).flatten(1))


def small_state_dict():
    torch.manual_seed(1)
    net = SmallNet()
    net.train()
    # Two training-mode forwards move running_mean/var off their defaults and make
    # num_batches_tracked = 2 (an int64 scalar), as in a real checkpoint.
    # Distinctive affine values too (the defaults 1 and 0 would hide a mixed-up key).
    torch.nn.init.uniform_(net.bn.weight, 0.5, 1.5)
    torch.nn.init.normal_(net.bn.bias)
    for _ in range(2):
        net(torch.randn(4, 2, 4, 4))
    return net.state_dict()


def dtypes_dict():
    g = torch.Generator().manual_seed(2)
    base = torch.randn(3, 5, generator=g, dtype=torch.float64)
    d = collections.OrderedDict()
    d['f16'] = base.to(torch.float16)
    # Values that only survive f16 -> f32 conversion if subnormals, infinities and signed zero
    # are handled.
    d['f16_special'] = torch.tensor([0.0, -0.0, 6.1e-5, 5.96e-8, -65504.0, float('inf'), float('-inf'), 1.0 / 3],
                                    dtype=torch.float16)
    d['f64'] = base * 1e3
    d['bf16'] = base.to(torch.bfloat16)
    d['i64'] = torch.tensor([[0, -1, 2 ** 31 - 1], [-(2 ** 31), 7, 42]], dtype=torch.int64)
    d['i32'] = torch.arange(-3, 3, dtype=torch.int32).reshape(2, 3)
    d['u8'] = torch.tensor([0, 1, 255], dtype=torch.uint8)
    d['bool'] = torch.tensor([True, False, True])
    d['scalar'] = torch.tensor(2.5)
    d['empty'] = torch.zeros(0, 3)
    return d


def views_dict():
    g = torch.Generator().manual_seed(3)
    base = torch.randn(4, 6, generator=g)
    d = collections.OrderedDict()
    # A transposed view: torch.save keeps the original storage and a (1, 6) stride.
    d['transposed'] = base.t()
    # Two tensors on one storage with different offsets, sizes and strides.
    d['rows_1_3'] = base[1:3]
    d['every_other_col'] = base[:, 1::2]
    # A broadcast (stride 0) view, as expand() makes.
    d['expanded'] = base[0, :3].unsqueeze(0).expand(2, 3)
    return d


def expected_of(d):
    out = collections.OrderedDict()
    for k, t in d.items():
        dtype = str(t.dtype).replace('torch.', '')
        if t.dtype.is_floating_point:
            # What we promise: floating tensors as float32 (f64 rounded, f16/bf16 exact).
            vals = t.to(torch.float32).contiguous().flatten().tolist()
            vals = [v if v == v and abs(v) != float('inf') else str(v) for v in vals]
        else:
            vals = [int(v) for v in t.contiguous().flatten().tolist()]
        out[k] = {'dtype': dtype, 'shape': list(t.shape), 'data': vals}
    return out


class Pwned:
    """Pickles as a call to os.system: loading it with plain pickle would run a shell command."""

    def __reduce__(self):
        return (os.system, ('echo pwned > /tmp/spine-pwned',))


def write_malicious(path):
    # Same layout torch.save uses (archive/data.pkl + data/ + version), so the file passes
    # the zip checks and the refusal has to come from the unpickler's allow-list.
    payload = pickle.dumps(collections.OrderedDict([('w', Pwned())]), protocol=2)
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as z:
        for name, data in (('malicious/data.pkl', payload), ('malicious/version', b'3\n')):
            z.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data)


def write_eval_legacy(path):
    # A legacy-format file whose object pickle calls builtins.eval.
    with open(path, 'wb') as f:
        pickle.dump(0x1950a86a20f9469cfc6c, f, protocol=2)
        pickle.dump(1001, f, protocol=2)
        pickle.dump({'protocol_version': 1001, 'little_endian': True,
                     'type_sizes': {'short': 2, 'int': 4, 'long': 4}}, f, protocol=2)
        f.write(b'\x80\x02cbuiltins\neval\nq\x00X\x0b\x00\x00\x00print("hi")q\x01\x85q\x02Rq\x03.')
        pickle.dump([], f, protocol=2)


class _Storage:
    """Marker the pickler below turns into a storage persistent id."""


class _TensorOnView:
    def __reduce__(self):
        # Tensor at offset 1 of a 6-element view that starts at element 2 of a 10-element storage.
        return (torch._utils._rebuild_tensor_v2, (_Storage(), 1, (2, 2), (1, 2), False, collections.OrderedDict()))


def write_legacy_storage_view(path):
    # Pre-1.0 torch pickled tensors on storage *views*: the persistent id then ends with
    # (view_key, offset, size) instead of None. torch 1.13 still reads them; its pickler no
    # longer writes them, so this file is assembled with Python's pickler in the same layout.
    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, _Storage):
                return ('storage', torch.FloatStorage, 'root', 'cpu', 10, ('view', 2, 6))
            return None

    with open(path, 'wb') as f:
        pickle.dump(0x1950a86a20f9469cfc6c, f, protocol=2)
        pickle.dump(1001, f, protocol=2)
        pickle.dump({'protocol_version': 1001, 'little_endian': True,
                     'type_sizes': {'short': 2, 'int': 4, 'long': 4}}, f, protocol=2)
        Pickler(f, protocol=2).dump(collections.OrderedDict([('on_view', _TensorOnView())]))
        pickle.dump(['root'], f, protocol=2)
        f.write((10).to_bytes(8, 'little'))
        f.write((torch.arange(10, dtype=torch.float32) * 1.5).numpy().tobytes())


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = collections.OrderedDict()

    def save(name, obj, legacy=False, tensors=None, pickle_protocol=2):
        path = os.path.join(OUT, name)
        torch.save(obj, path, _use_new_zipfile_serialization=not legacy, pickle_protocol=pickle_protocol)
        # Read it back with PyTorch: the expected values are what torch.load returns.
        loaded = torch.load(path)
        if tensors is not None:
            loaded = tensors(loaded)
        expected[name] = expected_of(loaded)

    sd = small_state_dict()
    save('small.zip.pth', sd)
    save('small.legacy.pth', sd, legacy=True)
    # Protocol 4 brings FRAME, MEMOIZE, SHORT_BINUNICODE: some scripts pass pickle_protocol=4.
    save('small.proto4.zip.pth', sd, pickle_protocol=4)
    save('dtypes.zip.pth', dtypes_dict())
    save('dtypes.legacy.pth', dtypes_dict(), legacy=True)
    save('views.zip.pth', views_dict())
    save('views.legacy.pth', views_dict(), legacy=True)
    # A training-script checkpoint: the state dict sits under 'state_dict' next to plain values.
    save('wrapped.zip.pth', {'epoch': 3, 'lr': 0.001, 'arch': 'small', 'state_dict': sd},
         tensors=lambda o: o['state_dict'])
    # Another common layout: {'model': state_dict, 'optimizer': ...} (a dict, not tensors).
    save('wrapped-model.legacy.pth', {'epoch': 7, 'model': sd, 'optimizer': {'lr': 0.01}}, legacy=True,
         tensors=lambda o: o['model'])
    # Old torchvision DenseNet names ('norm.1'), and a Parameter (pickled via _rebuild_parameter).
    g = torch.Generator().manual_seed(4)
    dn = collections.OrderedDict()
    dn['features.denseblock1.denselayer1.norm.1.weight'] = torch.randn(4, generator=g)
    dn['features.denseblock1.denselayer1.conv.2.weight'] = torch.randn(2, 4, 1, 1, generator=g)
    dn['features.norm5.bias'] = torch.nn.Parameter(torch.randn(3, generator=g))
    save('densenet-legacy-names.zip.pth', dn)

    path = os.path.join(OUT, 'storage-view.legacy.pth')
    write_legacy_storage_view(path)
    expected['storage-view.legacy.pth'] = expected_of(torch.load(path))

    write_malicious(os.path.join(OUT, 'malicious.zip.pth'))
    write_eval_legacy(os.path.join(OUT, 'malicious.legacy.pth'))

    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump({'torch': torch.__version__, 'files': expected}, f, separators=(',', ':'))
    total = 0
    for n in sorted(os.listdir(OUT)):
        size = os.path.getsize(os.path.join(OUT, n))
        total += size
        print(f'{n:36s} {size:8d}')
    print(f'{"total":36s} {total:8d}')


if __name__ == '__main__':
    main()
