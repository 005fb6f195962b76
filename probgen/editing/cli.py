"""``probgen edit``: complete seeded test images observed through an editing task, with a trained model.

``register(top)`` adds the command to the ``probgen`` parser; importing this module imports no torch (the
command imports what it needs when it runs).
"""

from __future__ import annotations

import argparse

# the keys of probgen.editing.tasks.TASKS (that module imports torch; a test keeps the two equal)
TASK_NAMES = ("inpaint-center", "uncrop-right", "superres4", "colorize")

DESCRIPTION = (
    "Observe seeded random test images through an editing task and draw posterior samples of the missing "
    "part from a trained VAE, GAN or DDPM (probgen.editing.complete). Writes one PNG grid: a column per "
    "image; rows: the observation, the --n samples, the ground truth."
)
EPILOG = "example: probgen train vae --out runs/vae && probgen edit --model runs/vae --task inpaint-center"


def register(top) -> None:
    """Add ``probgen edit`` to ``top`` (the top-level subparsers action)."""
    p = top.add_parser("edit", help="complete images observed through an editing task (inpainting, ...)",
                       description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("--model", required=True, default=argparse.SUPPRESS,
                   help="run folder of `probgen train vae|gan` or of probgen.diffusion.train_ddpm")
    p.add_argument("--task", required=True, metavar="TASK", default=argparse.SUPPRESS,
                   help=f"one of {', '.join(TASK_NAMES)} (colorize needs colour data, e.g. mnist-5k-colour)")
    p.add_argument("--n", type=int, default=8, help="posterior samples per image")
    p.add_argument("--images", type=int, default=6, help="test images (columns of the grid)")
    p.add_argument("-o", "--output", default="edit.png", help="PNG file to write")
    p.add_argument("--method", help="sampler (see probgen.editing.METHODS; default: the family's own)")
    p.add_argument("--sigma-y", type=float,
                   help="observation noise s.d. assumed by the sampler (default: the sampler's)")
    p.add_argument("--steps", type=int,
                   help="DDPM reverse steps, or SVI steps for --method svi (default: the sampler's)")
    p.add_argument("--seed", type=int, default=0, help="seed of the test images and of the sampler")
    p.add_argument("--data", help="data set of the test images (default: the run's, from its config.json)")
    p.set_defaults(func=edit_command)


def edit_command(args: argparse.Namespace) -> int:
    """Run ``probgen edit``: check the arguments, load the run, complete, write the grid."""
    from probgen import checks

    checks.check_choice("--task", args.task, TASK_NAMES)
    for name in ("n", "images"):
        checks.check_int(f"--{name}", getattr(args, name), 1)
    out = checks.check_output_file("--output", args.output)
    from probgen.editing.load import run_edit

    path = run_edit(args.model, args.task, out, n=args.n, images=args.images, method=args.method,
                    sigma_y=args.sigma_y, seed=args.seed, data=args.data, device=args.device,
                    steps=args.steps)
    print(f"wrote {path}")
    return 0
