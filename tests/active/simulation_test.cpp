// `al simulate` on a tiny colour set: outputs, the untouched test set, seeded repeats, resume
// and bad configs.
#include <gtest/gtest.h>

#include <set>

#include "active/active_test_util.h"
#include "hemapath/active/simulation.h"
#include "hemapath/core/error.h"
#include "hemapath/data/split.h"
#include "hemapath/io/csv.h"

namespace hemapath {
namespace {

class SimulationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    items_ = test::write_colour_pool(dir_.path(), 10);  // 30 crops
    labels_ = test::write_colour_labels(dir_.path(), items_);
  }
  std::string config(const std::string& active) {
    std::string yaml = test::colour_training_yaml(1);
    yaml.replace(yaml.find("data:\n") + 6, 0,
                 "  labels: " + labels_ + "\n  images: " + (dir_ / "images") + "\n  split: {train: 0.7, val: 0, test: 0.3, seed: 2}\n");
    yaml += "active:\n" + active;
    const std::string path = dir_ / ("config_" + std::to_string(++configs_) + ".yaml");
    test::write_file(path, yaml);
    return path;
  }
  SimulationResult run(const std::string& config_file, const std::string& out, bool resume = false) {
    SimulationOptions o;
    o.out_dir = dir_ / out;
    o.resume = resume;
    return simulate_active_learning(ActiveConfig::load(config_file), o);
  }
  test::ScratchDir dir_;
  std::vector<std::pair<std::string, std::string>> items_;
  std::string labels_;
  int configs_ = 0;
};

const char* kArms =
    "  arms: [random, entropy, learned_loss+hard, coreset, bald]\n"
    "  seeds: [1, 2]\n"
    "  initial: {fraction: 0.2, mode: stratified}\n"
    "  fractions: [0.4, 0.6]\n"
    "  mc_passes: 3\n";

TEST_F(SimulationTest, EveryArmAndSeedCyclesAndTheTestSetIsNeverSelected) {
  const auto result = run(config(kArms), "sim");
  // Pool 21 (0.7 of 30, stratified), test 9.
  EXPECT_EQ(result.pool_size, 21u);
  EXPECT_EQ(result.test_size, 9u);
  ASSERT_EQ(result.records.size(), 5u * 2u * 3u);
  size_t expected_picks = 0;
  for (const auto& r : result.records) {
    if (r.cycle == 0) {
      EXPECT_EQ(r.labelled, 3u) << "a stratified 20% of 7 per class: 1 per class";
      expected_picks += 13 - 3;
    } else {
      EXPECT_EQ(r.labelled, r.cycle == 1 ? 8u : 13u) << r.arm;  // round(0.4, 0.6 x 21)
    }
    EXPECT_GE(r.accuracy, 0);
    EXPECT_LE(r.accuracy, 1);
  }
  // The test images, as the simulation splits them (classes in sorted order: blue, green, red).
  std::vector<int> labels;
  for (const auto& [image, label] : items_) labels.push_back(label == "blue" ? 0 : label == "green" ? 1 : 2);
  const auto rows = read_csv(dir_ / "sim/selections.csv");
  ASSERT_EQ(rows.size(), 1 + expected_picks);
  std::map<std::string, std::set<std::string>> picked;  // arm/seed -> images
  for (size_t r = 1; r < rows.size(); ++r) {
    const std::string key = rows[r][0] + "/" + rows[r][1];
    EXPECT_TRUE(picked[key].insert(rows[r][3]).second) << "picked twice: " << rows[r][3];
  }
  const SplitIndices parts = stratified_split(labels, 0.7, 0, 0.3, 2);
  for (size_t i : parts.test) {
    const std::string test_image = items_[i].first;
    for (const auto& [key, images_picked] : picked)
      for (const auto& p : images_picked)
        EXPECT_NE(std::filesystem::path(p).filename().string(), test_image) << key << " picked a test image";
  }
  for (const char* file : {"curves.csv", "summary.csv", "curves.png", "config.json", "summary.json"})
    EXPECT_TRUE(std::filesystem::exists(dir_ / ("sim/" + std::string(file)))) << file;
  EXPECT_GT(result.parameters["learned_loss+hard"].get<int64_t>(), result.parameters["entropy"].get<int64_t>());
}

TEST_F(SimulationTest, SeededRunsRepeatExactlyAndResumeKeepsFinishedRuns) {
  const std::string cfg = config("  arms: [entropy, learned_loss]\n  seeds: [5]\n  fractions: [0.5]\n");
  run(cfg, "a");
  run(cfg, "b");
  const auto a = read_csv(dir_ / "a/curves.csv"), b = read_csv(dir_ / "b/curves.csv");
  ASSERT_EQ(a.size(), b.size());
  for (size_t r = 0; r < a.size(); ++r)
    for (size_t c = 0; c < 7; ++c) EXPECT_EQ(a[r][c], b[r][c]) << "row " << r << " column " << c;
  EXPECT_EQ(test::read_text(dir_ / "a/selections.csv"), test::read_text(dir_ / "b/selections.csv"));

  // Resuming a finished run recomputes nothing; a new run folder in the way is refused.
  const auto resumed = run(cfg, "a", /*resume=*/true);
  EXPECT_EQ(resumed.records.size(), 4u);
  EXPECT_EQ(test::read_text(dir_ / "a/selections.csv"), test::read_text(dir_ / "b/selections.csv"));
  EXPECT_THROW(run(cfg, "a"), InputError);
}

TEST_F(SimulationTest, BadConfigsAreRefusedBeforeAnythingIsWritten) {
  EXPECT_THROW(ActiveConfig::load(config("  arms: [entropy, oracle]\n")), InputError);
  EXPECT_THROW(ActiveConfig::load(config("  fractions: [0.3, 0.2]\n")), ConfigError);
  EXPECT_THROW(ActiveConfig::load(config("  fractions: [1.5]\n")), ConfigError);
  EXPECT_THROW(ActiveConfig::load(config("  arms: []\n")), ConfigError);
  EXPECT_THROW(ActiveConfig::load(config("  hard_augment: {by: oracle}\n")), ConfigError);
  EXPECT_THROW(ActiveConfig::load(config("  hard_augment: {fractoin: 0.5}\n")), ConfigError);
  // A step that adds no sample to a 21-sample pool (0.5 and 0.501 both round to 11).
  EXPECT_THROW(run(config("  fractions: [0.5, 0.501]\n"), "stuck"), InputError);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "stuck"));
}

}  // namespace
}  // namespace hemapath

namespace hemapath {
namespace {

TEST(ActiveConfigs, TheCommittedConfigsLoad) {
  for (const char* name : {"al_wbc_resnet18_cbam.yaml", "al_rbc_resnet18_cbam.yaml"}) {
    const ActiveConfig c = ActiveConfig::load((test::source_dir() / "configs" / name).string());
    ASSERT_EQ(c.arms.size(), 4u) << name;
    EXPECT_EQ(c.arms[3].name(), "learned_loss+hard");
    EXPECT_EQ(c.seeds.size(), 3u);
    EXPECT_EQ(c.fractions, (std::vector<double>{0.19, 0.28, 0.37, 0.52}));
    EXPECT_EQ(c.train.model.extra.at("attention"), "cbam");
  }
}

}  // namespace
}  // namespace hemapath
