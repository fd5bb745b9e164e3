"""Quickstart: estimate pi by Monte Carlo with a fixed seed, so the answer is checkable.

    npx slurmray run examples/quickstart/main.py:main --args '{"n": 20}'

prints {"n": 20, "primes": [...], "pi_estimate": ...}. With a slurm target and --nodes 3 the same
function runs on the cluster.
"""

import random
import sys


def primes_below(n):
    sieve = [True] * n
    found = []
    for i in range(2, n):
        if sieve[i]:
            found.append(i)
            for j in range(i * i, n, i):
                sieve[j] = False
    return found


def main(n=20, samples=200_000, seed=0):
    print(f"python {sys.version.split()[0]}: computing primes below {n} and pi from {samples} samples")
    rng = random.Random(seed)
    inside = sum(1 for _ in range(samples) if rng.random() ** 2 + rng.random() ** 2 <= 1.0)
    primes = primes_below(n)
    print(f"found {len(primes)} primes")
    return {"n": n, "primes": primes, "pi_estimate": round(4 * inside / samples, 4)}
