#include "hemapath/data/class_balance.h"

#include <algorithm>
#include <cmath>

#include "hemapath/core/error.h"

namespace hemapath {
namespace {

std::vector<std::vector<size_t>> members(const std::vector<int>& labels, int num_classes) {
  HP_CHECK(!labels.empty(), InputError, "class balance: no labels: expected at least one labelled sample");
  HP_CHECK(num_classes > 0, InputError, "class balance: num_classes is ", num_classes, ": expected > 0");
  std::vector<std::vector<size_t>> out(num_classes);
  for (size_t i = 0; i < labels.size(); ++i) {
    HP_CHECK(labels[i] >= 0 && labels[i] < num_classes, InputError, "class balance: label ", labels[i],
             " of sample ", i, " is outside [0, ", num_classes, ")");
    out[labels[i]].push_back(i);
  }
  return out;
}

}  // namespace

std::vector<double> class_weights(const std::vector<int>& labels, int num_classes, double power) {
  const auto groups = members(labels, num_classes);
  std::vector<double> w(num_classes, 0.0);
  const double n = double(labels.size());
  for (int c = 0; c < num_classes; ++c)
    if (!groups[c].empty()) w[c] = std::pow(n / (double(num_classes) * double(groups[c].size())), power);
  return w;
}

std::vector<size_t> balanced_order(const std::vector<int>& labels, int num_classes, size_t count, Rng& rng) {
  std::vector<std::vector<size_t>> present;
  for (auto& g : members(labels, num_classes))
    if (!g.empty()) present.push_back(std::move(g));
  std::vector<size_t> order(count);
  for (size_t& o : order) {
    const auto& group = present[rng() % present.size()];
    o = group[rng() % group.size()];
  }
  return order;
}

std::vector<size_t> epoch_training_order(const std::vector<size_t>& train, const std::vector<int>& labels,
                                         int num_classes, bool balanced, uint64_t seed, int epoch) {
  Rng rng(derive_seed(seed, {static_cast<uint64_t>(epoch), 0x5A3D}));
  if (balanced) {
    std::vector<int> train_labels;
    for (size_t i : train) train_labels.push_back(labels[i]);
    std::vector<size_t> picks = balanced_order(train_labels, num_classes, train.size(), rng);
    for (auto& p : picks) p = train[p];
    return picks;
  }
  std::vector<size_t> order = train;
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

}  // namespace hemapath
