#include <gtest/gtest.h>

#include <map>
#include <set>

#include "hemapath/core/error.h"
#include "hemapath/data/grouped_folds.h"

namespace hemapath {
namespace {

// 60 samples in 20 groups ("p0".."p19") of 3; classes 0/1/2 with counts 30/18/12.
struct Fixture {
  std::vector<int> labels;
  std::vector<std::string> groups;
  Fixture() {
    for (int g = 0; g < 20; ++g)
      for (int j = 0; j < 3; ++j) {
        groups.push_back("p" + std::to_string(g));
        labels.push_back(g < 10 ? 0 : g < 16 ? 1 : 2);
      }
  }
};

TEST(GroupedFolds, GroupsStayWholeFoldsCoverAndClassesSpreadEvenly) {
  Fixture d;
  auto folds = stratified_group_kfold(d.labels, d.groups, 4, 7);
  ASSERT_EQ(folds.size(), 4u);
  std::set<size_t> seen;
  std::map<std::string, int> fold_of_group;
  for (int f = 0; f < 4; ++f) {
    std::map<int, int> per_class;
    for (size_t i : folds[f]) {
      EXPECT_TRUE(seen.insert(i).second) << "index " << i << " in two folds";
      auto [it, added] = fold_of_group.emplace(d.groups[i], f);
      EXPECT_EQ(it->second, f) << "group " << d.groups[i] << " split across folds";
      ++per_class[d.labels[i]];
    }
    // Even shares are 7.5 / 4.5 / 3 samples; groups of 3 allow at most one group off.
    EXPECT_NEAR(per_class[0], 7.5, 4.5);
    EXPECT_NEAR(per_class[1], 4.5, 3.0);
    EXPECT_NEAR(per_class[2], 3.0, 3.0);
  }
  EXPECT_EQ(seen.size(), d.labels.size());
  EXPECT_EQ(folds, stratified_group_kfold(d.labels, d.groups, 4, 7));
}

TEST(GroupedFolds, WithoutGroupsItIsAStratifiedKFold) {
  std::vector<int> labels;
  for (int i = 0; i < 50; ++i) labels.push_back(i < 30 ? 0 : 1);
  auto folds = stratified_group_kfold(labels, {}, 5, 3);
  for (const auto& f : folds) {
    EXPECT_EQ(f.size(), 10u);
    int ones = 0;
    for (size_t i : f) ones += labels[i];
    EXPECT_EQ(ones, 4);  // 20 of class 1 over 5 folds
  }
  EXPECT_NE(folds, stratified_group_kfold(labels, {}, 5, 4)) << "the seed should matter";
  EXPECT_THROW(stratified_group_kfold(labels, {}, 1, 3), ConfigError);
  EXPECT_THROW(stratified_group_kfold(labels, std::vector<std::string>(50, "one"), 2, 3), ConfigError);
}

TEST(GroupedFolds, FiveByTwoGivesFiveDifferentHalvings) {
  Fixture d;
  auto splits = five_by_two_splits(d.labels, d.groups, 11);
  ASSERT_EQ(splits.size(), 5u);
  for (const auto& s : splits) {
    EXPECT_EQ(s.first.size() + s.second.size(), d.labels.size());
    std::set<std::string> first_groups;
    for (size_t i : s.first) first_groups.insert(d.groups[i]);
    for (size_t i : s.second) EXPECT_FALSE(first_groups.count(d.groups[i])) << "group on both halves";
  }
  EXPECT_NE(splits[0].first, splits[1].first);
}

TEST(GroupedFolds, PartitionMeetsUnequalSharesWithGroupsWhole) {
  Fixture d;
  // A subset: the first 15 groups (45 samples; classes 30 / 15 / 0).
  std::vector<size_t> subset;
  for (size_t i = 0; i < 45; ++i) subset.push_back(i);
  const auto parts = stratified_group_partition(subset, d.labels, d.groups, {0.8, 0.2, 0}, 4);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_TRUE(parts[2].empty()) << "a part with share 0 gets nothing";
  EXPECT_EQ(parts[0].size() + parts[1].size(), 45u);
  EXPECT_EQ(parts[1].size(), 9u);  // 20% of 45 in whole groups of 3
  std::set<std::string> train_groups;
  for (size_t i : parts[0]) {
    EXPECT_LT(i, 45u) << "an index outside the subset";
    train_groups.insert(d.groups[i]);
  }
  std::map<int, int> val_classes;
  for (size_t i : parts[1]) {
    EXPECT_FALSE(train_groups.count(d.groups[i])) << "group " << d.groups[i] << " on both sides";
    ++val_classes[d.labels[i]];
  }
  EXPECT_EQ(val_classes[0], 6);  // 20% of each class: 6 of 30, 3 of 15
  EXPECT_EQ(val_classes[1], 3);
  EXPECT_EQ(parts, stratified_group_partition(subset, d.labels, d.groups, {0.8, 0.2, 0}, 4));
  EXPECT_NE(parts, stratified_group_partition(subset, d.labels, d.groups, {0.8, 0.2, 0}, 5)) << "the seed matters";
  EXPECT_THROW(stratified_group_partition({0, 1, 2}, d.labels, d.groups, {0.5, 0.5}, 4), InputError)
      << "one group cannot fill two parts";
}

TEST(GroupedFolds, RegexGroups) {
  std::vector<Sample> samples(3);
  samples[0].image_path = "/x/patient7_cell003.png";
  samples[1].image_path = "patient7_cell004.png";
  samples[2].image_path = "dir/patient12_cell001.png";
  EXPECT_EQ(groups_from_regex(samples, "^(patient\\d+)_"),
            (std::vector<std::string>{"patient7", "patient7", "patient12"}));
  EXPECT_EQ(groups_from_regex(samples, "patient\\d+"), (std::vector<std::string>{"patient7", "patient7", "patient12"}));
  EXPECT_THROW(groups_from_regex(samples, "(unclosed"), ConfigError);
  try {
    groups_from_regex(samples, "^slide\\d+");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("patient7_cell003.png"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hemapath
