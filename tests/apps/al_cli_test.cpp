// `hemapath al query | import | train`: a labelling round trip on a tiny pool, and bad input.
#include <gtest/gtest.h>

#include <set>

#include "active/active_test_util.h"
#include "hemapath/io/csv.h"

namespace hemapath {
namespace {
namespace fs = std::filesystem;

class AlCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    items_ = test::write_colour_pool(dir_.path(), 8);  // 24 crops in dir/images
    pool_ = dir_ / "images";
    // A first model from 2 labelled crops per class, and a project training config.
    std::string initial = "image,label\n";
    for (size_t i = 0; i < 6; ++i) initial += items_[i].first + "," + items_[i].second + "\n";
    test::write_file(dir_ / "initial.csv", initial);
    std::string yaml = test::colour_training_yaml(1);
    yaml.replace(yaml.find("data:\n") + 6, 0, "  split: {train: 1, val: 0, test: 0}\n");
    // The project's models carry a loss head, so later rounds can query by learned loss.
    std::string with_head = yaml;
    with_head.replace(with_head.find("loss_net_width: 8"), 17, "loss_net_width: 8, loss_net: true");
    test::write_file(dir_ / "project.yaml", with_head);
    yaml.replace(yaml.find("data:\n") + 6, 0, "  labels: " + (dir_ / "initial.csv") + "\n  images: " + pool_ + "\n");
    test::write_file(dir_ / "first.yaml", yaml);
    const auto trained = test::run_cli("train --config " + (dir_ / "first.yaml") + " --out " + (dir_ / "first") + " -q");
    ASSERT_EQ(trained.exit_code, 0) << trained.output;
    model_ = dir_ / "first/best.hpm";
  }
  // The queried images of a round, in rank order.
  std::vector<std::string> queried(const std::string& round) {
    std::vector<std::string> out;
    const auto rows = read_csv(dir_ / ("project/" + round + "/query.csv"));
    for (size_t r = 1; r < rows.size(); ++r) out.push_back(rows[r][1]);
    return out;
  }
  // to_label.csv of a round filled in with the true class (the crop's file name prefix).
  std::string fill_in(const std::string& round) {
    const auto rows = read_csv(dir_ / ("project/" + round + "/to_label.csv"));
    EXPECT_EQ(rows[0], (CsvRow{"image", "label"}));
    std::string csv = "image,label\n";
    for (size_t r = 1; r < rows.size(); ++r) {
      EXPECT_EQ(rows[r][1], "");
      csv += rows[r][0] + "," + rows[r][0].substr(0, rows[r][0].find('_')) + "\n";
    }
    const std::string path = dir_ / (round + "_labels.csv");
    test::write_file(path, csv);
    return path;
  }
  test::ScratchDir dir_;
  std::vector<std::pair<std::string, std::string>> items_;
  std::string pool_, model_;
};

TEST_F(AlCliTest, QueryImportTrainQueryAgain) {
  const std::string project = dir_ / "project";
  auto q1 = test::run_cli("al query --project " + project + " --pool " + pool_ + " --model " + model_ +
                          " --k 5 --strategy margin -q");
  ASSERT_EQ(q1.exit_code, 0) << q1.output;
  EXPECT_TRUE(test::contains(q1.output, "round 1: 5 of 24")) << q1.output;
  const auto round1 = queried("round-001");
  ASSERT_EQ(round1.size(), 5u);
  EXPECT_TRUE(fs::exists(project + "/round-001/contact_sheet.png"));

  auto imported = test::run_cli("al import " + fill_in("round-001") + " --project " + project);
  ASSERT_EQ(imported.exit_code, 0) << imported.output;
  EXPECT_TRUE(test::contains(imported.output, "5 labels added")) << imported.output;
  imported = test::run_cli("al import " + (dir_ / "initial.csv") + " --project " + project);
  ASSERT_EQ(imported.exit_code, 0) << imported.output;
  const auto labelled = read_csv(project + "/labelled.csv");
  std::set<std::string> labelled_images;
  for (size_t r = 1; r < labelled.size(); ++r) labelled_images.insert(labelled[r][0]);
  EXPECT_EQ(labelled_images.size(), 5u + 6u - std::count_if(round1.begin(), round1.end(), [&](const auto& i) {
                                                 return i.find("_0.") != std::string::npos ||
                                                        i.find("_1.") != std::string::npos;
                                               }));

  const auto trained = test::run_cli("al train --project " + project + " --config " + (dir_ / "project.yaml") + " -q");
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  EXPECT_TRUE(fs::exists(project + "/models/round-001/best.hpm"));
  EXPECT_TRUE(test::contains(test::read_text(project + "/project.json"), "models/round-001/best.hpm"));

  // The next round scores with the new model (trained with a loss head) and never asks for a
  // labelled or already asked image.
  const auto q2 = test::run_cli("al query --project " + project + " --k 4 --strategy learned_loss -q");
  ASSERT_EQ(q2.exit_code, 0) << q2.output;
  for (const auto& image : queried("round-002")) {
    EXPECT_FALSE(labelled_images.count(image)) << image;
    EXPECT_EQ(std::count(round1.begin(), round1.end(), image), 0) << image;
  }
}

TEST_F(AlCliTest, BadInputIsRefusedAndChangesNothing) {
  const std::string project = dir_ / "project";
  auto r = test::run_cli("al query --project " + project + " --pool " + pool_ + " --model " + model_ + " --k 25");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(test::contains(r.output, "larger than the 24")) << r.output;
  EXPECT_FALSE(fs::exists(project + "/project.json"));

  fs::create_directories(dir_ / "empty");
  r = test::run_cli("al query --project " + (dir_ / "p2") + " --pool " + (dir_ / "empty") + " --model " + model_ +
                    " --k 1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(test::contains(r.output, "no usable images")) << r.output;

  ASSERT_EQ(test::run_cli("al query --project " + project + " --pool " + pool_ + " --model " + model_ + " --k 2 -q")
                .exit_code,
            0);
  test::write_file(dir_ / "unknown_image.csv", "image,label\nred_0.png,red\nnot_there.png,blue\n");
  r = test::run_cli("al import " + (dir_ / "unknown_image.csv") + " --project " + project);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(test::contains(r.output, "not_there.png")) << r.output;
  test::write_file(dir_ / "unknown_class.csv", "image,label\nred_0.png,purple\n");
  r = test::run_cli("al import " + (dir_ / "unknown_class.csv") + " --project " + project);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(test::contains(r.output, "purple")) << r.output;
  test::write_file(dir_ / "twice.csv", "image,label\nred_0.png,red\nred_0.png,blue\n");
  r = test::run_cli("al import " + (dir_ / "twice.csv") + " --project " + project);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(read_csv(project + "/labelled.csv").size(), 1u) << "nothing imported";

  // The first model has no loss head to ask.
  r = test::run_cli("al query --project " + project + " --k 3 --strategy learned_loss");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(test::contains(r.output, "loss head")) << r.output;
  r = test::run_cli("al query --project " + project + " --k 3 --strategy oracle");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(test::contains(r.output, "learned_loss")) << r.output;
}

}  // namespace
}  // namespace hemapath
