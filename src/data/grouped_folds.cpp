#include "hemapath/data/grouped_folds.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "hemapath/core/error.h"
#include "hemapath/core/random.h"
#include "hemapath/data/dataset_spec.h"
#include "hemapath/data/split.h"
#include "hemapath/io/label_table.h"

namespace hemapath {

std::vector<std::string> groups_from_regex(const std::vector<Sample>& samples, const std::string& pattern,
                                           const std::string& option) {
  std::regex re;
  try {
    re = std::regex(pattern);
  } catch (const std::regex_error& e) {
    throw ConfigError(option + " '" + pattern + "' is not a valid regular expression: " + e.what());
  }
  std::vector<std::string> groups;
  groups.reserve(samples.size());
  for (const auto& s : samples) {
    const std::string name = std::filesystem::path(s.image_path).filename().string();
    std::smatch m;
    HP_CHECK(std::regex_search(name, m, re), InputError, option, " '", pattern, "' does not match image '",
             s.image_path, "': every image needs a group");
    groups.push_back(m.size() > 1 ? m[1].str() : m[0].str());
  }
  return groups;
}

std::vector<std::string> sample_groups(const DatasetSpec& spec, const std::vector<Sample>& samples,
                                       const std::string& group_by, const std::string& option) {
  static const std::string kColumnPrefix = "column:";
  if (group_by.empty()) return {};
  if (group_by.rfind(kColumnPrefix, 0) != 0) return groups_from_regex(samples, group_by, option);
  const std::string column = group_by.substr(kColumnPrefix.size());
  HP_CHECK(!spec.labels_csv.empty(), ConfigError, option, " '", group_by,
           "' reads a column of the label CSV, but the data comes from class folders");
  const auto values = read_label_column(spec.labels_csv, spec.csv_image_root(), column);
  std::vector<std::string> groups;
  groups.reserve(samples.size());
  for (const auto& s : samples) {
    auto it = values.find(s.image_path);
    HP_CHECK(it != values.end() && !it->second.empty(), InputError, option, " '", group_by, "': image '", s.image_path,
             "' has no value in column '", column, "' of '", spec.labels_csv, "'");
    groups.push_back(it->second);
  }
  return groups;
}

std::vector<std::vector<size_t>> stratified_group_partition(const std::vector<size_t>& indices,
                                                            const std::vector<int>& labels,
                                                            const std::vector<std::string>& groups,
                                                            const std::vector<double>& shares, uint64_t seed) {
  HP_CHECK(groups.empty() || groups.size() == labels.size(), InputError, "group ids (", groups.size(),
           ") and labels (", labels.size(), ") differ in number");
  HP_CHECK(!indices.empty(), InputError, "cannot split an empty dataset");
  // Members of each group, in first-seen order.
  std::map<std::string, size_t> group_index;
  std::vector<std::vector<size_t>> members;
  for (size_t i : indices) {
    const std::string key = groups.empty() ? std::to_string(i) : groups[i];
    auto [it, added] = group_index.emplace(key, members.size());
    if (added) members.emplace_back();
    members[it->second].push_back(i);
  }
  const size_t parts_with_share = std::count_if(shares.begin(), shares.end(), [](double s) { return s > 0; });
  HP_CHECK(members.size() >= parts_with_share, InputError, "the data has ", members.size(),
           " group(s), too few for a split into ", parts_with_share, " parts that keeps each group whole");
  const int num_classes = *std::max_element(labels.begin(), labels.end()) + 1;
  std::vector<double> class_count(num_classes, 0);
  for (size_t i : indices) class_count[labels[i]] += 1;
  const double smallest_share = *std::min_element(shares.begin(), shares.end(),
                                                  [](double a, double b) { return (a > 0 ? a : 2) < (b > 0 ? b : 2); });

  std::vector<size_t> order(members.size());
  for (size_t g = 0; g < order.size(); ++g) order[g] = g;
  Rng rng(derive_seed(seed, {0x6B66}));
  shuffle_indices(order, rng);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return members[a].size() > members[b].size(); });

  std::vector<std::vector<double>> part_counts(shares.size(), std::vector<double>(num_classes, 0));
  std::vector<std::vector<size_t>> parts(shares.size());
  for (size_t g : order) {
    std::vector<double> add(num_classes, 0);
    for (size_t i : members[g]) add[labels[i]] += 1;
    int best = -1;
    double best_cost = 0;
    for (size_t p = 0; p < shares.size(); ++p) {
      if (shares[p] <= 0) continue;
      // Change in squared distance from the part's share of each class, then the part's
      // size relative to its share to break ties.
      double cost = 0;
      for (int c = 0; c < num_classes; ++c) {
        const double before = part_counts[p][c] - shares[p] * class_count[c], after = before + add[c];
        cost += after * after - before * before;
      }
      cost = cost * 1e6 + static_cast<double>(parts[p].size()) / shares[p] * smallest_share;
      if (best < 0 || cost < best_cost) best = static_cast<int>(p), best_cost = cost;
    }
    for (int c = 0; c < num_classes; ++c) part_counts[best][c] += add[c];
    parts[best].insert(parts[best].end(), members[g].begin(), members[g].end());
  }
  for (size_t p = 0; p < parts.size(); ++p)
    HP_CHECK(shares[p] <= 0 || !parts[p].empty(), InputError, "keeping each of the ", members.size(),
             " groups whole leaves a part of the split empty (share ", shares[p], "): more groups are needed");
  for (auto& p : parts) std::sort(p.begin(), p.end());
  return parts;
}

std::vector<std::vector<size_t>> stratified_group_kfold(const std::vector<int>& labels,
                                                        const std::vector<std::string>& groups, int k, uint64_t seed) {
  HP_CHECK(!labels.empty(), InputError, "cannot make folds of an empty dataset");
  const size_t group_count =
      groups.empty() ? labels.size() : std::set<std::string>(groups.begin(), groups.end()).size();
  HP_CHECK(k >= 2 && static_cast<size_t>(k) <= group_count, ConfigError, "k = ", k,
           " folds need 2 <= k <= the number of groups (", group_count, ")");
  return stratified_group_partition(all_indices(labels.size()), labels, groups, std::vector<double>(k, 1.0 / k), seed);
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
