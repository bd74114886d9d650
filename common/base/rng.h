/*
 * rng: small, fast, seedable pseudo-random numbers (xoshiro256**, seeded
 * through splitmix64) for the simulators' reproducible noise.  Not for
 * secrets.  A rng value belongs to one thread; give each thread or each
 * independent stream of randomness its own, derived with rng_fork, so that
 * the order of events in one stream does not change another.
 */
#pragma once

#include <stdint.h>

typedef struct rng {
    uint64_t s[4];
} rng;

/* Seeds deterministically from a 64-bit seed. */
void rng_seed(rng *r, uint64_t seed);
/* A new generator derived from r and a stream label; r is not advanced. */
rng rng_fork(const rng *r, uint64_t stream);
uint64_t rng_next(rng *r);
/* Uniform in [0, 1). */
double rng_uniform(rng *r);
/* Uniform integer in [0, n) for n > 0. */
uint64_t rng_below(rng *r, uint64_t n);
/* Standard normal (mean 0, deviation 1). */
double rng_normal(rng *r);
/* A stateless hash of (a, b): the same inputs always give the same output. */
uint64_t rng_hash2(uint64_t a, uint64_t b);
