#pragma once
/// Stratified train/val/test splits and k-fold partitions, reproducible from a seed.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "hemapath/core/random.h"

namespace hemapath {

/// Dataset indices of each part, each sorted ascending.
struct SplitIndices {
  std::vector<size_t> train, val, test;
};

/// Stratified split: within each class, shuffled with a seed derived from `seed` and the
/// class, then cut by the fractions (largest-remainder rounding, so each part is within 1
/// of its target; then every class with >= 3 samples gets at least one in each non-zero
/// part). Disjoint, covers all indices, same seed -> same split. ConfigError if fractions
/// are negative or don't sum to 1 (+-1e-6); InputError when `labels` is empty.
SplitIndices stratified_split(const std::vector<int>& labels, double train, double val, double test,
                              uint64_t seed);

/// stratified_split of the samples `indices` picks (labels indexed by dataset index), e.g. a
/// validation share carved from a training part. The result holds dataset indices.
SplitIndices stratified_split_of(const std::vector<size_t>& indices, const std::vector<int>& labels, double train,
                                 double val, double test, uint64_t seed);

/// The indices 0..n-1, for evaluating or predicting a whole set.
std::vector<size_t> all_indices(size_t n);

/// Stratified k-fold: k disjoint test folds (each sorted) covering all indices. Each
/// class's shuffled samples are dealt round-robin, continuing across classes, so per-class
/// fold sizes differ by at most 1 and so do the total fold sizes. ConfigError when k < 2
/// or k exceeds the number of samples.
std::vector<std::vector<size_t>> stratified_kfold(const std::vector<int>& labels, int k, uint64_t seed);

/// Fisher-Yates shuffle drawing from `rng` (platform-independent, unlike std::shuffle).
void shuffle_indices(std::vector<size_t>& v, Rng& rng);

}  // namespace hemapath
