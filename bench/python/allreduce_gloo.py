#!/usr/bin/env python3
"""torch.distributed Gloo all-reduce baseline for `plateau-bench allreduce`.

Spawns --workers processes on loopback (TCP store), or with --rank runs that one rank only (the benchmark then starts
each rank itself, e.g. in its own network namespace, and --master-addr names rank 0's address), all-reduces float32 tensors of each size and
prints one JSON line per size from rank 0: {"bytes", "seconds", "cpu_seconds"} where seconds is the mean time per
all-reduce, taking the slowest rank (as nccl-tests does), and cpu_seconds the CPU time (user + system, every thread)
all ranks' processes spent per all-reduce, summed over the ranks."""
import argparse
import json
import os
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def run(rank, args):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://{args.master_addr}:{args.port}", rank=rank, world_size=args.workers)
    for size in args.sizes:
        tensor = torch.ones(size // 4, dtype=torch.float32)
        for _ in range(args.warmup):
            dist.all_reduce(tensor)
        dist.barrier()
        start = time.perf_counter()
        cpu_start = time.process_time()
        for _ in range(args.iters):
            dist.all_reduce(tensor)
        cpu = torch.tensor([(time.process_time() - cpu_start) / args.iters], dtype=torch.float64)
        elapsed = torch.tensor([(time.perf_counter() - start) / args.iters], dtype=torch.float64)
        dist.all_reduce(elapsed, op=dist.ReduceOp.MAX)
        dist.all_reduce(cpu, op=dist.ReduceOp.SUM)
        if rank == 0:
            print(json.dumps({"bytes": size, "seconds": elapsed.item(), "cpu_seconds": cpu.item()}), flush=True)
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], required=True, help="bytes, comma separated")
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--port", type=int, default=29517)
    parser.add_argument("--rank", type=int, help="run this rank only (started by the benchmark, one process per rank)")
    parser.add_argument("--master-addr", default="127.0.0.1", help="rank 0's address (the TCP store)")
    args = parser.parse_args()
    if args.rank is not None:
        run(args.rank, args)
        return
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    mp.spawn(run, args=(args,), nprocs=args.workers, join=True)


if __name__ == "__main__":
    main()
