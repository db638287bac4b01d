// Sharded batches as a lab runs them over an archive: `analyze` and `slide segment` with
// --shard i/n process every input exactly once, the merged summary equals one process's, a
// re-run skips what is finished, and a worker killed mid-run leaves work that the re-run does.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "hemapath/io/csv.h"
#include "test_support.h"

namespace hemapath {
namespace {
namespace fs = std::filesystem;
using test::contains;

// The smears a run analysed, from the lines it prints ("BloodImage_00003.jpg: 12 red cells").
std::multiset<std::string> analysed(const std::string& output) {
  std::multiset<std::string> names;
  const std::regex line(R"((BloodImage_\d+\.jpg): \d+ red cells)");
  for (auto it = std::sregex_iterator(output.begin(), output.end(), line); it != std::sregex_iterator(); ++it)
    names.insert((*it)[1]);
  return names;
}

// A summary table without its timing column, which no two runs share.
std::vector<CsvRow> without_seconds(const fs::path& csv) {
  std::vector<CsvRow> rows = read_csv(csv.string());
  const auto seconds = std::find(rows.at(0).begin(), rows.at(0).end(), "seconds") - rows.at(0).begin();
  for (auto& row : rows) row.erase(row.begin() + seconds);
  return rows;
}

size_t rows_with(const fs::path& csv, const std::string& status) {
  size_t n = 0;
  for (const auto& row : read_csv(csv.string())) n += row.size() > 1 && row[1] == status;
  return n;
}

TEST(ShardCli, FourAnalyzeShardsTakeTwentySmearsOnceAndMergeToTheSingleRunsSummary) {
  test::ScratchDir dir;
  const std::string images = test::link_wbc_images(dir.path(), 20);
  // One view per red cell: the test is about sharding, and 4 views double each smear's time.
  const std::string common = "analyze '" + images + "' --threads 1 --plan eager --red-symmetries 1";
  const auto single = test::run_cli(common + " --out '" + (dir / "single") + "'");
  ASSERT_EQ(single.exit_code, 0) << single.output;
  ASSERT_EQ(analysed(single.output).size(), 20u) << single.output;

  std::multiset<std::string> all;
  for (int i = 0; i < 4; ++i) {
    const auto r = test::run_cli(common + " --shard " + std::to_string(i) + "/4 --out '" + (dir / "sharded") + "'");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto mine = analysed(r.output);
    EXPECT_EQ(mine.size(), 5u) << r.output;
    all.insert(mine.begin(), mine.end());
    EXPECT_TRUE(contains(r.output, "shard " + std::to_string(i) + "/4: 5 of 20 inputs, 5 analysed now")) << r.output;
    EXPECT_EQ(rows_with(dir.path() / "sharded" / "summary.csv", "pending"), size_t(15 - 5 * i));
  }
  EXPECT_EQ(all.size(), 20u);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 20u);  // none twice
  EXPECT_EQ(without_seconds(dir.path() / "sharded" / "summary.csv"),
            without_seconds(dir.path() / "single" / "summary.csv"));

  // Re-running a finished shard touches nothing.
  const fs::path overlay = dir.path() / "sharded" / "BloodImage_00001" / "overlay.png";
  const auto written = fs::last_write_time(overlay);
  const auto again = test::run_cli(common + " --shard 1/4 --out '" + (dir / "sharded") + "'");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_TRUE(contains(again.output, "shard 1/4: 5 of 20 inputs, 0 analysed now, 5 finished before")) << again.output;
  EXPECT_EQ(fs::last_write_time(overlay), written);

  // A worker killed mid-run: its shard's re-run does exactly what is left.
  for (int k = 2; k < 20; k += 4) {
    char stem[32];
    std::snprintf(stem, sizeof stem, "BloodImage_%05d", k);
    fs::remove_all(dir.path() / "sharded" / stem);
  }
  const pid_t worker = test::spawn_cli(
      {"analyze", images, "--threads", "1", "--plan", "eager", "--red-symmetries", "1", "--shard", "2/4", "--out",
       dir / "sharded"},
      {},
      dir / "killed.log");
  ASSERT_GT(worker, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(dir.path() / "sharded" / "BloodImage_00002" / "summary.json") &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  kill(worker, SIGKILL);
  waitpid(worker, nullptr, 0);
  size_t finished_before_kill = 0;
  for (int k = 2; k < 20; k += 4) {
    char stem[32];
    std::snprintf(stem, sizeof stem, "BloodImage_%05d", k);
    finished_before_kill += fs::exists(dir.path() / "sharded" / stem / "summary.json");
  }
  ASSERT_GE(finished_before_kill, 1u);
  const auto rerun = test::run_cli(common + " --shard 2/4 --out '" + (dir / "sharded") + "'");
  ASSERT_EQ(rerun.exit_code, 0) << rerun.output;
  EXPECT_EQ(analysed(rerun.output).size(), 5 - finished_before_kill) << rerun.output;
  EXPECT_TRUE(contains(rerun.output, "merged summary of all 20 inputs: 20 finished, 0 failed, 0 pending"))
      << rerun.output;
  EXPECT_EQ(without_seconds(dir.path() / "sharded" / "summary.csv"),
            without_seconds(dir.path() / "single" / "summary.csv"));
}

TEST(ShardCli, AFailedInputIsReportedInTheMergedSummaryAndRetried) {
  test::ScratchDir dir;
  const std::string images = test::link_wbc_images(dir.path(), 3);
  fs::remove(fs::path(images) / "BloodImage_00001.jpg");
  test::write_file(images + "/BloodImage_00001.jpg", "not a jpeg");
  const std::string common = "analyze '" + images + "' --threads 1 --out '" + (dir / "out") + "' --shard ";
  auto r = test::run_cli(common + "0/2");
  EXPECT_EQ(r.exit_code, 0) << r.output;  // inputs 0 and 2
  r = test::run_cli(common + "1/2");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "BloodImage_00001.jpg")) << r.output;
  EXPECT_EQ(rows_with(dir.path() / "out" / "summary.csv", "error"), 1u);
  EXPECT_EQ(rows_with(dir.path() / "out" / "summary.csv", "ok"), 2u);
  // Mended, the failed input is tried again and the error row goes.
  fs::remove(fs::path(images) / "BloodImage_00001.jpg");
  fs::create_symlink(test::shared_data() / "wbc-bccd" / "images" / "BloodImage_00001.jpg",
                     fs::path(images) / "BloodImage_00001.jpg");
  r = test::run_cli(common + "1/2");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(rows_with(dir.path() / "out" / "summary.csv", "ok"), 3u);
  EXPECT_FALSE(fs::exists(dir.path() / "out" / "BloodImage_00001" / "error.txt"));
  // Scoring needs the whole run, and a shard must be i/n.
  r = test::run_cli(common + "0/2 --wbc-labels '" + (test::shared_data() / "wbc-bccd" / "labels.csv").string() + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.output, "without --shard")) << r.output;
  r = test::run_cli(common + "2/2");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.output, "--shard '2/2': expected i/n")) << r.output;
}

TEST(ShardCli, SlideShardsSegmentEachSlideOnceIntoAMergedSummary) {
  test::ScratchDir dir;
  // Three smears as plain-image slides, listed in a file.
  std::string list;
  for (const char* name : {"chula_15.jpg", "chula_115.jpg", "chula_151.jpg"})
    list += (test::source_dir() / "data" / "samples" / "smears" / name).string() + "\n";
  test::write_file(dir / "slides.txt", "# three smears\n" + list);
  const std::string model = (test::source_dir() / "models" / "rbc_unet.hpm").string();
  const std::string common = "slide segment --list '" + (dir / "slides.txt") + "' --model '" + model +
                             "' --slide-mpp 0.25 --min-tissue 0 --threads 1 --thumbnail-size 256 --out '" +
                             (dir / "out") + "'";
  std::multiset<std::string> segmented;
  for (int i = 0; i < 2; ++i) {
    const auto r = test::run_cli(common + " --shard " + std::to_string(i) + "/2");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const std::regex line(R"(smears/(chula_\d+)\.jpg: \d+ tiles run)");
    for (auto it = std::sregex_iterator(r.output.begin(), r.output.end(), line); it != std::sregex_iterator(); ++it)
      segmented.insert((*it)[1]);
  }
  EXPECT_EQ(segmented, (std::multiset<std::string>{"chula_115", "chula_15", "chula_151"}));
  const auto summary = test::read_json(dir.path() / "out" / "summary.json");
  EXPECT_EQ(summary["finished"], 3);
  EXPECT_EQ(summary["pending"], 0);
  int64_t cells = 0;
  for (const char* stem : {"chula_15", "chula_115", "chula_151"}) {
    const auto one = test::read_json(dir.path() / "out" / stem / "summary.json");
    cells += one.value("cells", int64_t{0});
    EXPECT_FALSE(fs::exists(dir.path() / "out" / stem / "partial"));
  }
  EXPECT_EQ(summary["cells"].get<int64_t>(), cells);
  EXPECT_EQ(rows_with(dir.path() / "out" / "summary.csv", "finished"), 3u);
  // Everything finished: a re-run of the whole list segments nothing.
  const auto again = test::run_cli(common);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_TRUE(contains(again.output, "shard 0/1: 3 of 3 slides, 0 segmented now, 3 finished before")) << again.output;
}

}  // namespace
}  // namespace hemapath
