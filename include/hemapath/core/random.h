#pragma once
/// Seeding. One `--seed` drives torch's generator and every std RNG hemapath makes, so
/// CPU training is bit-for-bit repeatable. Per-sample generators are derived from
/// (seed, epoch, index) so results do not depend on which worker thread ran first.
#include <cstdint>
#include <initializer_list>
#include <random>

namespace hemapath {

/// Seeds torch's default CPU (and CUDA, if present) generators.
void seed_everything(uint64_t seed);

/// A well-mixed 64-bit seed from a base seed and a list of stream ids (SplitMix64).
uint64_t derive_seed(uint64_t base, std::initializer_list<uint64_t> stream);

using Rng = std::mt19937_64;

}  // namespace hemapath
