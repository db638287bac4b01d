#include "hemapath/data/grouped_folds.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>

#include "hemapath/core/error.h"
#include "hemapath/core/random.h"
#include "hemapath/data/split.h"

namespace hemapath {

std::vector<std::string> groups_from_regex(const std::vector<Sample>& samples, const std::string& pattern) {
  std::regex re;
  try {
    re = std::regex(pattern);
  } catch (const std::regex_error& e) {
    throw ConfigError("--group-by '" + pattern + "' is not a valid regular expression: " + e.what());
  }
  std::vector<std::string> groups;
  groups.reserve(samples.size());
  for (const auto& s : samples) {
    const std::string name = std::filesystem::path(s.image_path).filename().string();
    std::smatch m;
    HP_CHECK(std::regex_search(name, m, re), InputError, "--group-by '", pattern, "' does not match image '",
             s.image_path, "': every image needs a group");
    groups.push_back(m.size() > 1 ? m[1].str() : m[0].str());
  }
  return groups;
}

std::vector<std::vector<size_t>> stratified_group_kfold(const std::vector<int>& labels,
                                                        const std::vector<std::string>& groups, int k,
                                                        uint64_t seed) {
  HP_CHECK(groups.empty() || groups.size() == labels.size(), InputError, "group ids (", groups.size(),
           ") and labels (", labels.size(), ") differ in number");
  HP_CHECK(!labels.empty(), InputError, "cannot make folds of an empty dataset");
  // Members and class counts of each group, in first-seen order.
  std::map<std::string, size_t> group_index;
  std::vector<std::vector<size_t>> members;
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::string key = groups.empty() ? std::to_string(i) : groups[i];
    auto [it, added] = group_index.emplace(key, members.size());
    if (added) members.emplace_back();
    members[it->second].push_back(i);
  }
  HP_CHECK(k >= 2 && static_cast<size_t>(k) <= members.size(), ConfigError, "k = ", k,
           " folds need 2 <= k <= the number of groups (", members.size(), ")");
  const int num_classes = *std::max_element(labels.begin(), labels.end()) + 1;
  std::vector<double> share(num_classes, 0);
  for (int l : labels) share[l] += 1.0 / k;

  std::vector<size_t> order(members.size());
  for (size_t g = 0; g < order.size(); ++g) order[g] = g;
  Rng rng(derive_seed(seed, {0x6B66}));
  shuffle_indices(order, rng);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return members[a].size() > members[b].size(); });

  std::vector<std::vector<double>> fold_counts(k, std::vector<double>(num_classes, 0));
  std::vector<std::vector<size_t>> folds(k);
  for (size_t g : order) {
    std::vector<double> add(num_classes, 0);
    for (size_t i : members[g]) add[labels[i]] += 1;
    int best = 0;
    double best_cost = 0;
    for (int f = 0; f < k; ++f) {
      // Change in squared distance from the even share, then fold size to break ties.
      double cost = 0;
      for (int c = 0; c < num_classes; ++c) {
        const double before = fold_counts[f][c] - share[c], after = before + add[c];
        cost += after * after - before * before;
      }
      cost = cost * 1e6 + static_cast<double>(folds[f].size());
      if (f == 0 || cost < best_cost) best = f, best_cost = cost;
    }
    for (int c = 0; c < num_classes; ++c) fold_counts[best][c] += add[c];
    folds[best].insert(folds[best].end(), members[g].begin(), members[g].end());
  }
  for (auto& f : folds) std::sort(f.begin(), f.end());
  return folds;
}

std::vector<HalfSplit> five_by_two_splits(const std::vector<int>& labels, const std::vector<std::string>& groups,
                                          uint64_t seed) {
  std::vector<HalfSplit> out;
  for (uint64_t r = 0; r < 5; ++r) {
    auto halves = stratified_group_kfold(labels, groups, 2, derive_seed(seed, {r}));
    out.push_back({halves[0], halves[1]});
  }
  return out;
}

}  // namespace hemapath
