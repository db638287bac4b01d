#include "hemapath/data/split.h"

#include <algorithm>
#include <numeric>
#include <cmath>
#include <map>

#include "hemapath/core/error.h"

namespace hemapath {
namespace {

// Indices grouped by label, labels ascending, indices ascending within each.
std::map<int, std::vector<size_t>> by_class(const std::vector<int>& labels) {
  std::map<int, std::vector<size_t>> groups;
  for (size_t i = 0; i < labels.size(); ++i) groups[labels[i]].push_back(i);
  return groups;
}

// Each class gets its own stream, so adding or removing one class leaves the
// assignment of the others unchanged.
Rng class_rng(uint64_t seed, uint64_t purpose, int label) {
  return Rng(derive_seed(seed, {purpose, static_cast<uint64_t>(static_cast<int64_t>(label))}));
}

}  // namespace

void shuffle_indices(std::vector<size_t>& v, Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng() % i]);
}

SplitIndices stratified_split(const std::vector<int>& labels, double train, double val, double test,
                              uint64_t seed) {
  const double fractions[3] = {train, val, test};
  for (double f : fractions)
    HP_CHECK(std::isfinite(f) && f >= 0, ConfigError, "split fractions train=", train, ", val=", val,
             ", test=", test, " are invalid: expected non-negative numbers");
  HP_CHECK(std::abs(train + val + test - 1) <= 1e-6, ConfigError, "split fractions train=", train, ", val=", val,
           ", test=", test, " sum to ", train + val + test, ": expected a sum of 1");
  HP_CHECK(!labels.empty(), InputError, "cannot split an empty dataset: expected at least one sample");

  SplitIndices out;
  std::vector<size_t>* parts[3] = {&out.train, &out.val, &out.test};
  for (auto& [label, indices] : by_class(labels)) {
    const size_t n = indices.size();
    // Largest-remainder rounding: floors, then the leftover samples go to the parts with
    // the largest fractional targets, so each count is within 1 of n * fraction.
    size_t count[3];
    double remainder[3];
    size_t assigned = 0;
    for (int p = 0; p < 3; ++p) {
      const double target = n * fractions[p];
      count[p] = std::min(n, size_t(std::floor(target)));
      remainder[p] = target - count[p];
      assigned += count[p];
    }
    while (assigned < n) {
      int best = 0;
      for (int p = 1; p < 3; ++p)
        if (remainder[p] > remainder[best]) best = p;
      ++count[best];
      remainder[best] = -1;
      ++assigned;
    }
    // Tiny classes: rounding can leave a requested part without the class at all.
    if (n >= 3) {
      for (int p = 0; p < 3; ++p) {
        if (fractions[p] <= 0 || count[p] > 0) continue;
        int largest = 0;
        for (int q = 1; q < 3; ++q)
          if (count[q] > count[largest]) largest = q;
        --count[largest];
        ++count[p];
      }
    }
    Rng rng = class_rng(seed, 1, label);
    shuffle_indices(indices, rng);
    size_t pos = 0;
    for (int p = 0; p < 3; ++p)
      for (size_t j = 0; j < count[p]; ++j) parts[p]->push_back(indices[pos++]);
  }
  for (auto* p : parts) std::sort(p->begin(), p->end());
  return out;
}

std::vector<std::vector<size_t>> stratified_kfold(const std::vector<int>& labels, int k, uint64_t seed) {
  HP_CHECK(k >= 2, ConfigError, "k-fold needs k >= 2 folds, got ", k);
  HP_CHECK(size_t(k) <= labels.size(), ConfigError, "k-fold with k = ", k, " needs at least ", k,
           " samples, got ", labels.size());
  std::vector<std::vector<size_t>> folds(k);
  size_t deal = 0;  // continues across classes so the total fold sizes stay balanced too
  for (auto& [label, indices] : by_class(labels)) {
    Rng rng = class_rng(seed, 2, label);
    shuffle_indices(indices, rng);
    for (size_t i : indices) folds[deal++ % k].push_back(i);
  }
  for (auto& f : folds) std::sort(f.begin(), f.end());
  return folds;
}

SplitIndices stratified_split_of(const std::vector<size_t>& indices, const std::vector<int>& labels, double train,
                                 double val, double test, uint64_t seed) {
  std::vector<int> picked;
  for (size_t i : indices) picked.push_back(labels.at(i));
  SplitIndices local = stratified_split(picked, train, val, test, seed);
  for (auto* part : {&local.train, &local.val, &local.test}) {
    for (size_t& i : *part) i = indices[i];
    std::sort(part->begin(), part->end());
  }
  return local;
}

std::vector<size_t> all_indices(size_t n) {
  std::vector<size_t> out(n);
  std::iota(out.begin(), out.end(), size_t{0});
  return out;
}

}  // namespace hemapath
