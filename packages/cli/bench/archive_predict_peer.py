"""PyTorch CPU peer of archive-predict-bench.mjs: for each case, one timed pass over its PNG films
as predict does them: PIL decode, grey float in [0, 1], resize to the network's input (stretch, or
shorter side then centre crop), three channels normalised with the ImageNet mean/std, batched by a
torch DataLoader (as many worker processes as the case's loader workers, kept between passes),
eval-mode forward without grad, softmax, probabilities to a list. Networks: torchvision's
densenet121 with 2 classes, or the sequential CNN of seqcnn_peer.py. Reads the cases as JSON on
stdin and prints {'torch', 'threads', 'device', 'ms'} via bench/torch_peer.py."""
import os
import sys

import numpy as np
import torch
import torchvision
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', '..', 'models', 'bench'))
sys.path.insert(0, os.path.join(here, '..', '..', '..', 'bench'))
from seqcnn_peer import sequential_cnn  # noqa: E402
from torch_peer import DEVICE, run_peer  # noqa: E402

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)


class Films(torch.utils.data.Dataset):
    def __init__(self, files, size, resize):
        self.files, self.size, self.resize = files, size, resize

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        img = Image.open(self.files[i]).convert('F')  # grey, float, 0..255
        s = self.size
        if self.resize == 'stretch':
            img = img.resize((s, s), Image.BILINEAR)
        else:
            w, h = img.size
            k = s / min(w, h)
            img = img.resize((max(s, round(w * k)), max(s, round(h * k))), Image.BILINEAR)
            w, h = img.size
            left, top = (w - s) // 2, (h - s) // 2
            img = img.crop((left, top, left + s, top + s))
        g = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0)
        return (g.expand(3, s, s) - MEAN) / STD


def make(case):
    m = case['model']
    net = torchvision.models.densenet121(num_classes=2) if 'densenet' in m else sequential_cnn(m)
    net = net.to(DEVICE).eval()
    workers = case['workers']
    loader = torch.utils.data.DataLoader(Films(case['films'], case['size'], case['resize']), batch_size=case['batch'], num_workers=workers, persistent_workers=workers > 0)

    def archive_pass():
        out = []
        with torch.no_grad():
            for x in loader:
                out.extend(torch.softmax(net(x.to(DEVICE)), 1)[:, 1].tolist())
        return out

    return archive_pass


if __name__ == '__main__':
    run_peer(make)
