"""Multi-process training with DistributedDataParallel, shared by the VAE and GAN trainers.

Launch a training command under ``torchrun`` (one process per GPU, or several CPU processes with the gloo
backend) and :func:`setup_distributed` reads the ``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` variables that
torchrun sets; run it plainly and you get a single-process context with the same interface::

    torchrun --nproc_per_node 2 -m probgen.cli train gan --data mnist-5k --steps 1000

Only rank 0 logs, draws figures and writes checkpoints (:attr:`DistContext.is_main`). Each rank reads its
own shard of every epoch (:meth:`DistContext.loader`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from probgen.data import ImageData, TensorLoader
from probgen.device import get_device


@dataclass
class DistContext:
    """Where this process stands in a (possibly single-process) job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    backend: str | None = None  # None when not distributed

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """True on the process that logs and writes files (rank 0)."""
        return self.rank == 0

    def wrap(self, module: nn.Module, **ddp_kwargs) -> nn.Module:
        """``module`` on this device, wrapped in DistributedDataParallel when distributed."""
        module = module.to(self.device)
        if not self.is_distributed:
            return module
        ids = [self.device.index] if self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(module, device_ids=ids, **ddp_kwargs)

    def loader(self, data: ImageData, batch_size: int, **kwargs) -> TensorLoader:
        """A loader over this rank's shard (``batch_size`` per process)."""
        return TensorLoader(data.images, data.labels, batch_size, device=self.device, rank=self.rank,
                            world_size=self.world_size, **kwargs)

    def average_gradients(self, params) -> None:
        """All-reduce and average ``.grad`` of ``params`` across ranks (for code not wrapped in DDP)."""
        if not self.is_distributed:
            return
        for p in params:
            if p.grad is not None:
                dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
                p.grad.div_(self.world_size)

    def mean(self, value: float | torch.Tensor) -> float:
        """The mean of a scalar across ranks (the value itself when single-process)."""
        t = torch.as_tensor(value, dtype=torch.float64, device=self.device).detach().clone()
        if self.is_distributed:
            dist.all_reduce(t, op=dist.ReduceOp.SUM)
            t /= self.world_size
        return float(t)

    def broadcast_module(self, module: nn.Module) -> None:
        """Copy rank 0's parameters and buffers into ``module`` on every rank."""
        if self.is_distributed:
            for t in list(module.parameters()) + list(module.buffers()):
                dist.broadcast(t.data, src=0)

    def barrier(self) -> None:
        if self.is_distributed:
            dist.barrier()

    def close(self) -> None:
        """Leave the process group. A barrier first, so that no rank tears gloo down while another still
        has a collective in flight (that race aborts the process at exit)."""
        if self.is_distributed and dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()


def setup_distributed(device: str | torch.device | None = "auto") -> DistContext:
    """Join the torchrun job described by the environment, or return a single-process context.

    Under torchrun with CUDA, each process takes GPU ``LOCAL_RANK`` and the NCCL backend; on the CPU the
    gloo backend is used.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    dev = get_device(device)
    if world <= 1:
        return DistContext(device=dev)
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if dev.type == "cuda":
        dev = torch.device("cuda", local)
        torch.cuda.set_device(dev)
    backend = "nccl" if dev.type == "cuda" else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, rank=rank, world_size=world)
    return DistContext(rank=rank, world_size=world, local_rank=local, device=dev, backend=backend)


def unwrap(module: nn.Module) -> nn.Module:
    """The module inside a DistributedDataParallel wrapper (or the module itself)."""
    return module.module if isinstance(module, nn.parallel.DistributedDataParallel) else module
