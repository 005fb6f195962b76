"""Record of the discriminator/generator variants tried against the matched GAN's collapse (docs/compare.md).

Usage: PYTHONPATH=. python docs/figures/compare/no_batchnorm/gan_variants.py VARIANT STEPS, VARIANT made of: sn
(spectral norm in D), mb (minibatch-s.d. feature), do (dropout 0.3 in D), noise (instance noise 0.2), leaky
(LeakyReLU in the generator), he (He-normal init of the generator), bn (batch norm in the generator), origd
(keep the original D), cond, sat (saturating loss). Prints the evaluator's metrics of 500 samples.
Run against the commit before batch normalisation entered probgen.compare.nets (the generator it patches).
"""

import sys, time, torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm
from probgen.data import load_dataset
from probgen.compare.config import CompareConfig
from probgen.compare import train as T, nets as N
from probgen.metrics import SampleEvaluator
variant = sys.argv[1]; steps = int(sys.argv[2])
orig = N.Discriminator.__init__
class D(nn.Module):
    def __init__(self, x_shape, num_classes=None):
        super().__init__()
        sn = spectral_norm if "sn" in variant else (lambda m: m)
        self.mb = "mb" in variant
        p = 0.3 if "do" in variant else 0.0
        self.noise = 0.2 if "noise" in variant else 0.0
        self.conv = nn.Sequential(sn(nn.Conv2d(1, 32, 4, 2, 1)), nn.LeakyReLU(0.2), nn.Dropout(p), sn(nn.Conv2d(32, 64, 4, 2, 1)), nn.LeakyReLU(0.2), nn.Dropout(p))
        w = 64 * 49 + (num_classes or 0) + (1 if self.mb else 0)
        self.head = nn.Sequential(sn(nn.Linear(w, 256)), nn.LeakyReLU(0.2), nn.Dropout(p), sn(nn.Linear(256, 1)))
    def forward(self, x, y1h=None):
        x = 2 * x - 1
        if self.noise and self.training:
            x = x + self.noise * torch.randn_like(x)
        h = self.conv(x).flatten(1)
        if self.mb:
            h = torch.cat([h, h.std(0).mean().expand(len(h), 1)], 1)
        h = h if y1h is None else torch.cat([h, y1h], 1)
        return self.head(h).squeeze(1)
if "leaky" in variant:
    class G(N.Generator):
        def __init__(self, x_shape, num_classes=None):
            super().__init__(x_shape, num_classes)
            for mod in list(self.net.modules()):
                for name, child in list(mod.named_children()):
                    if isinstance(child, nn.ReLU):
                        setattr(mod, name, nn.LeakyReLU(0.2))
    N.Generator = G
if "he" in variant:
    class GH(N.Generator):
        def __init__(self, x_shape, num_classes=None):
            super().__init__(x_shape, num_classes)
            for m in self.net.modules():
                if isinstance(m, (nn.Linear, nn.ConvTranspose2d)):
                    nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                    nn.init.zeros_(m.bias)
            x = self(torch.randn(256, 32)).detach()
            print("init sd across z", float(x.std(0).mean()), flush=True)
    N.Generator = GH
if "bn" in variant:
    class GB(N.Generator):
        def __init__(self, x_shape, num_classes=None):
            super().__init__(x_shape, num_classes)
            b = self.net.body  # Linear, ReLU, Linear, ReLU
            self.net.body = nn.Sequential(b[0], nn.BatchNorm1d(b[0].out_features), b[1], b[2], nn.BatchNorm1d(b[2].out_features), b[3])
            d = self.net.deconv  # ConvT, ReLU, ConvT
            self.net.deconv = nn.Sequential(d[0], nn.BatchNorm2d(d[0].out_channels), d[1], d[2])
    N.Generator = GB
if "origd" not in variant:
    N.Discriminator = D
d = load_dataset("mnist-5k", "train")
cfg = CompareConfig(budget=f"{steps}steps")
t = time.time()
tr = T.train_gan("GAN", d, 10 if "cond" in variant else None, ("steps", steps), cfg, 1, False, "minimax" if "sat" in variant else "non-saturating")
ev = SampleEvaluator("mnist-5k", "test", device="cpu")
y = torch.arange(500) % 10 if "cond" in variant else None
m = ev.evaluate(tr.model.sample(500, y) if y is not None else tr.model.sample(500), y)
print(variant, steps, round(time.time()-t), {k: round(v, 3) for k, v in m.items()}, flush=True)
