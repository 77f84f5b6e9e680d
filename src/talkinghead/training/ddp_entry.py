"""Entry point for multi-process training (DistributedDataParallel, gloo backend).

    torchrun --nproc_per_node 2 -m talkinghead.training.ddp_entry RECIPE CORPUS_DIR -o DIR

Takes the arguments of ``talkinghead train``. Each process uses one torch thread
unless ``--threads`` says otherwise.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    import torch
    import torch.distributed as dist

    from ..cli.train import add_train_arguments, run_train

    p = argparse.ArgumentParser(prog="talkinghead.training.ddp_entry")
    add_train_arguments(p)
    args = p.parse_args(argv)
    if args.threads is None:
        args.threads = 1
    torch.set_num_threads(args.threads)
    dist.init_process_group(backend="gloo")
    try:
        return run_train(args)
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
