"""PyTorch as a benchmark peer: reads a JSON list of cases on stdin, prints a JSON list of median
milliseconds (null for a case it cannot run). Run by bench/harness.mjs with Debian's
/usr/bin/python3 when torch is installed; the same shapes as our cases, on the same machine.
CPU by default; SPINE_TORCH_DEVICE=cuda runs it on the machine's GPU (each timed run then ends
with a synchronize, as ours ends waiting for the queue)."""
import contextlib
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

QUICK = '--quick' in sys.argv
DEVICE = torch.device(os.environ.get('SPINE_TORCH_DEVICE', 'cpu'))


def sync():
    if DEVICE.type == 'cuda':
        torch.cuda.synchronize()


def timed(fn, reps, cpu_out=None):
    # On a GPU each sample repeats the case 20 times before synchronising, as our GPU runs do.
    # cpu_out, when given, gets the median process CPU time per run (all threads), which a
    # shared machine disturbs far less than the wall time.
    inner = 20 if DEVICE.type == 'cuda' else 1
    fn()
    sync()
    times = []
    cpu = []
    for _ in range(reps):
        t0 = time.perf_counter()
        c0 = time.process_time()
        for _ in range(inner):
            fn()
        sync()
        times.append((time.perf_counter() - t0) * 1e3 / inner)
        cpu.append((time.process_time() - c0) * 1e3 / inner)
    if cpu_out is not None:
        cpu_out.append(statistics.median(cpu))
    return statistics.median(times)


def make(case):
    op = case['op']
    back = case.get('backward', False)
    if op == 'matmul':
        dt = torch.float16 if case.get('dtype') == 'f16' else torch.float32
        if dt == torch.float16 and DEVICE.type == 'cpu':
            return None  # CPU builds of torch have no half matmul (addmm) to compare with
        a = torch.rand(case['M'], case['K'], device=DEVICE, dtype=dt)
        b = torch.rand(case['N'], case['K'], device=DEVICE, dtype=dt) if case.get('transB') else torch.rand(case['K'], case['N'], device=DEVICE, dtype=dt)
        return lambda: a @ (b.t() if case.get('transB') else b)
    if op == 'conv2d':
        x = torch.randn(*case['x'], device=DEVICE, requires_grad=back)
        w = torch.randn(*case['w'], device=DEVICE, requires_grad=back)
        def run():
            y = F.conv2d(x, w, None, case.get('stride', 1), case.get('padding', 0), case.get('dilation', 1))
            if back:
                y.backward(torch.ones_like(y))
        return run
    if op == 'batchnorm':
        x = torch.randn(*case['x'], device=DEVICE, requires_grad=back)
        c = case['x'][1]
        w = torch.ones(c, device=DEVICE, requires_grad=back)
        b = torch.zeros(c, device=DEVICE, requires_grad=back)
        rm, rv = torch.zeros(c, device=DEVICE), torch.ones(c, device=DEVICE)
        def run():
            y = F.batch_norm(x, rm, rv, w, b, training=True)
            if back:
                y.backward(torch.ones_like(y))
        return run
    if op == 'lrn':
        x = torch.randn(*case['x'], device=DEVICE, requires_grad=back)
        def run():
            y = F.local_response_norm(x, case['size'])
            if back:
                y.backward(torch.ones_like(y))
        return run
    if op == 'model':
        return None  # models are timed by their own scripts
    if op == 'densenet121':
        return densenet121_step(case)
    if op == 'resnet50':
        return resnet50_step(case)
    return None


def densenet121_step(case):
    """torchvision's DenseNet-121: a training step (cross-entropy, backward, SGD momentum 0.9) or
    an eval-mode forward without grad, on a batch of case['batch'] images of case['size'] px."""
    import torchvision
    m = torchvision.models.densenet121(num_classes=case.get('classes', 2), memory_efficient=case.get('memoryEfficient', False)).to(DEVICE)
    x = torch.randn(case['batch'], 3, case['size'], case['size'], device=DEVICE)
    if case.get('amp') and DEVICE.type != 'cuda':
        return None  # torch.autocast with f16 and GradScaler: CUDA only
    return model_runner(m, x, case.get('train', False), amp=case.get('amp', False))


def resnet50_step(case):
    """torchvision's ResNet-50 (case['classes'] outputs): a training step or an eval-mode forward,
    as densenet121_step."""
    import torchvision
    m = torchvision.models.resnet50(num_classes=case.get('classes', 1000)).to(DEVICE)
    x = torch.randn(case['batch'], 3, case['size'], case['size'], device=DEVICE)
    return model_runner(m, x, case.get('train', False))


def half_autocast(on):
    """torch.autocast to f16 when on (CUDA), else no context (CPU autocast refuses f16 even disabled)."""
    return torch.autocast(DEVICE.type, dtype=torch.float16) if on else contextlib.nullcontext()


def model_runner(m, x, train, weight_decay=0.0, amp=False):
    """A timed call for a whole network: an eval-mode forward without grad, or a training step
    (cross-entropy on alternating labels, backward, SGD momentum 0.9); with amp, the forward under
    torch.autocast (f16) and the step through a GradScaler, as PyTorch's mixed-precision recipe."""
    if not train:
        m.eval()
        def infer():
            with torch.no_grad(), half_autocast(amp):
                m(x)
        return infer
    labels = (torch.arange(x.shape[0]) % 2).to(DEVICE)
    opt = torch.optim.SGD(m.parameters(), lr=1e-3, momentum=0.9, weight_decay=weight_decay)
    scaler = torch.cuda.amp.GradScaler(enabled=amp)
    def step():
        opt.zero_grad()
        with half_autocast(amp):
            loss = F.cross_entropy(m(x), labels)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
    return step


def set_conv_tf32(on):
    """cuDNN convolutions of f32 tensors on TF32 tensor cores (PyTorch's default on CUDA) or in
    full f32 (case['tf32'] false). Newer PyTorch spells it fp32_precision; older, allow_tf32."""
    conv = getattr(torch.backends.cudnn, 'conv', None)
    if conv is not None and hasattr(conv, 'fp32_precision'):
        conv.fp32_precision = 'tf32' if on else 'ieee'
    else:
        torch.backends.cudnn.allow_tf32 = on


def run_peer(make_case):
    """Read the cases (JSON on stdin), time each (None where make_case returns None), print the result."""
    # Use every core, as our engine (lavapipe's worker threads) does; torch may default to 1 here.
    torch.set_num_threads(os.cpu_count() or 1)
    torch.set_grad_enabled(True)
    cases = json.load(sys.stdin)
    out = []
    cpu = []
    tf32_default = torch.backends.cudnn.allow_tf32
    for case in cases:
        set_conv_tf32(case.get('tf32', tf32_default))
        fn = make_case(case)
        if fn is None:
            cpu.append(None)
        out.append(None if fn is None else timed(fn, 3 if QUICK else 5, cpu))
    device = torch.cuda.get_device_name(DEVICE) if DEVICE.type == 'cuda' else 'CPU'
    json.dump({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'device': device, 'convTf32': bool(tf32_default) and DEVICE.type == 'cuda', 'ms': out, 'cpuMs': cpu}, sys.stdout)


def main():
    run_peer(make)


if __name__ == '__main__':
    main()
