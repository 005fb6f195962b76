"""Device choice: ``"auto"`` picks CUDA when it is available, else the CPU."""

from __future__ import annotations

import torch


def get_device(device: str | torch.device | None = "auto") -> torch.device:
    """Resolve ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` to a :class:`torch.device`.

    Asking for CUDA on a machine without it raises a ValueError that says so, rather than failing
    later inside torch.
    """
    if isinstance(device, torch.device):
        device = str(device)
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, str):
        raise TypeError(f"`device` must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    try:
        dev = torch.device(device)
    except RuntimeError as e:
        raise ValueError(f"`device`={device!r} is not a device; use 'auto', 'cpu', 'cuda' or 'cuda:N'") from e
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"`device`={device!r} but CUDA is not available here; use 'auto' or 'cpu'")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"`device`={device!r} but only {torch.cuda.device_count()} CUDA device(s) are visible"
            )
    elif dev.type not in ("cpu", "mps"):
        raise ValueError(f"`device`={device!r}: probgen supports 'cpu' and 'cuda' devices")
    return dev
