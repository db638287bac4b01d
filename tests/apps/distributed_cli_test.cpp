// `hemapath train --distributed` as a user runs it: two ranks on loopback end with the weights
// of one process on the same global batches, a rank that dies makes the other stop with a clear
// error instead of hanging, and the run then resumes to the end; bad launch settings are named;
// segmentation networks train the same way.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "hemapath/models/model_file.h"
#include "test_support.h"

namespace hemapath {
namespace {
namespace fs = std::filesystem;
using test::contains;

std::vector<std::string> rank_env(int rank, int world, int port) {
  return {"RANK=" + std::to_string(rank), "WORLD_SIZE=" + std::to_string(world), "MASTER_ADDR=127.0.0.1",
          "MASTER_PORT=" + std::to_string(port), "OMP_NUM_THREADS=1"};
}

// A port for a test's rendezvous, apart from other tests' (ctest runs two at once).
int test_port(int offset) { return 20000 + static_cast<int>(getpid() % 20000) + offset; }

std::string launch(int ranks, const std::string& args) {
  return "bash '" + (test::source_dir() / "scripts" / "launch_local.sh").string() + "' " + std::to_string(ranks) + " " +
         std::string(HEMAPATH_CLI) + " " + args;
}

// Largest |difference| between the parameters of two classifier files of one architecture.
double max_parameter_difference(const fs::path& a, const fs::path& b) {
  const auto x = load_classifier(a.string(), torch::kCPU).model->named_parameters();
  const auto y = load_classifier(b.string(), torch::kCPU).model->named_parameters();
  EXPECT_EQ(x.size(), y.size());
  double worst = 0;
  for (const auto& p : x) worst = std::max(worst, (p.value() - y[p.key()]).abs().max().item<double>());
  return worst;
}

const char* kTinyModel = "{arch: separable_cnn, dropout: 0, extra: {width: 0.25}}";

// Trains one config twice: as one process running each global batch as the two ranks' halves
// (BatchNorm sees each half alone, as each rank does), into DIR/one, and on two ranks, into
// DIR/two. Returns the ranks' output.
std::string train_in_one_process_and_on_two_ranks(const test::ScratchDir& dir, const std::string& config, int port) {
  const std::string common = " --config '" + config + "' --threads 1";
  auto one = test::run_cli("train" + common + " --out '" + (dir / "one") + "' --set train.micro_batches=2");
  EXPECT_EQ(one.exit_code, 0) << one.output;
  auto two = test::run_shell("MASTER_PORT=" + std::to_string(port) + " " +
                             launch(2, "train" + common + " --out '" + (dir / "two") + "' --distributed"));
  EXPECT_EQ(two.exit_code, 0) << two.output;
  return two.output;
}

TEST(DistributedTrain, TwoRanksEndWithTheWeightsOfOneProcessOnTheSameGlobalBatches) {
  test::ScratchDir dir;
  // 48 images, 24 to train on: three global batches of 7, augmented, split 3 + 4 between the
  // ranks, so each rank's gradient must count by its share.
  const std::string config =
      test::write_tiny_wbc_config(dir.path(), 12, "{epochs: 1, batch_size: 7, optimizer: {name: adamw, lr: 0.01}}",
                                  "{hflip: true, vflip: true, rotate_degrees: 90}", kTinyModel);
  const std::string two = train_in_one_process_and_on_two_ranks(dir, config, test_port(0));
  EXPECT_TRUE(contains(two, "[rank 0] trained separable_cnn on 24 images")) << two;
  EXPECT_FALSE(contains(two, "[rank 1] trained")) << two;  // rank 0 reports
  EXPECT_TRUE(fs::exists(dir.path() / "two" / "checkpoint.pt"));

  // Equal up to the order of float sums (Adam divides by small second moments, which makes
  // round-off visible: about 1e-5 here, against steps of 1e-2).
  const double same = max_parameter_difference(dir.path() / "one" / "last.hpm", dir.path() / "two" / "last.hpm");
  EXPECT_LT(same, 1e-4);
  std::cout << "max parameter difference: 2 ranks vs 1 process with micro-batches " << same;
  // The comparison can tell: whole batches through BatchNorm train other weights.
  auto whole = test::run_cli("train --config '" + config + "' --threads 1 --out '" + (dir / "whole") + "'");
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  const double other = max_parameter_difference(dir.path() / "whole" / "last.hpm", dir.path() / "two" / "last.hpm");
  std::cout << ", vs 1 process on whole batches " << other << "\n";
  EXPECT_GT(other, 100 * same);
  EXPECT_GT(other, 1e-3);

  // The validation figures are over all validation images, reduced over the ranks.
  const std::string log_one = test::read_text(dir.path() / "one" / "log.csv");
  const std::string log_two = test::read_text(dir.path() / "two" / "log.csv");
  auto column = [](const std::string& csv, int index) {
    std::string row = csv.substr(csv.find('\n') + 1);
    for (int i = 0; i < index; ++i) row = row.substr(row.find(',') + 1);
    return row.substr(0, row.find_first_of(",\n"));
  };
  EXPECT_EQ(column(log_one, 2), column(log_two, 2));  // train loss
  EXPECT_EQ(column(log_one, 3), column(log_two, 3));  // train accuracy
}

// With train.optimizer.ema_decay every rank starts its average from rank 0's weights and keeps
// it in step, so rank 0's model file holds the average one process would have saved.
TEST(DistributedTrain, WeightAveragingOnTwoRanksSavesTheAverageOfOneProcess) {
  test::ScratchDir dir;
  const std::string config = test::write_tiny_wbc_config(
      dir.path(), 12, "{epochs: 2, batch_size: 7, optimizer: {name: adamw, lr: 0.01, ema_decay: 0.9}}",
      "{hflip: true, vflip: true, rotate_degrees: 90}", kTinyModel);
  train_in_one_process_and_on_two_ranks(dir, config, test_port(5));
  const double same = max_parameter_difference(dir.path() / "one" / "last.hpm", dir.path() / "two" / "last.hpm");
  EXPECT_LT(same, 1e-4);
  // And the average is not the live weights: without it the same runs end elsewhere.
  auto plain = test::run_cli("train --config '" + config + "' --threads 1 --out '" + (dir / "plain") +
                             "' --set train.micro_batches=2 --set train.optimizer.ema_decay=0");
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  EXPECT_GT(max_parameter_difference(dir.path() / "plain" / "last.hpm", dir.path() / "two" / "last.hpm"), 100 * same);
}

TEST(DistributedTrain, AKilledRankStopsTheOtherWithAClearErrorAndTheRunResumes) {
  test::ScratchDir dir;
  const std::string config =
      test::write_tiny_wbc_config(dir.path(), 8, "{epochs: 40, batch_size: 4}", "{}", kTinyModel);
  const std::vector<std::string> args{"train",     "--config", config,          "--out",          dir / "run",
                                      "--threads", "1",        "--distributed", "--dist-timeout", "60"};
  const int port = test_port(1);
  const pid_t rank0 = test::spawn_cli(args, rank_env(0, 2, port), dir / "rank0.log");
  const pid_t rank1 = test::spawn_cli(args, rank_env(1, 2, port), dir / "rank1.log");
  ASSERT_GT(rank0, 0);
  ASSERT_GT(rank1, 0);
  // Mid-run: once rank 0 has written the first checkpoint.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(dir.path() / "run" / "checkpoint.pt") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(fs::exists(dir.path() / "run" / "checkpoint.pt")) << test::read_text(dir / "rank0.log");
  kill(rank1, SIGKILL);
  waitpid(rank1, nullptr, 0);
  const auto killed = std::chrono::steady_clock::now();
  const int code = test::wait_exit(rank0, 90);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  const std::string log = test::read_text(dir / "rank0.log");
  ASSERT_NE(code, -1) << "rank 0 still running 90 s after rank 1 was killed:\n" << log;
  EXPECT_EQ(code, 1) << log;
  EXPECT_LT(seconds, 60.0);
  EXPECT_TRUE(contains(log, "distributed run, rank 0 of 2:")) << log;
  EXPECT_TRUE(contains(log, "another worker has probably stopped")) << log;

  // The run goes on from its last checkpoint to the end.
  auto resumed = test::run_shell(
      "MASTER_PORT=" + std::to_string(test_port(2)) + " " +
      launch(2, "train --config '" + config + "' --out '" + (dir / "run") + "' --threads 1 --distributed --resume"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_TRUE(contains(resumed.output, "info [train] resuming at epoch")) << resumed.output;
  const std::string history = test::read_text(dir.path() / "run" / "log.csv");
  EXPECT_EQ(std::count(history.begin(), history.end(), '\n'), 41) << history;  // header + 40 epochs
}

TEST(DistributedTrain, MissingOrLonelyRanksAreNamedNotWaitedForForever) {
  test::ScratchDir dir;
  const std::string config = test::write_tiny_wbc_config(dir.path(), 2, "{epochs: 1, batch_size: 4}", "{}", kTinyModel);
  auto r = test::run_cli("train --config '" + config + "' --out '" + (dir / "a") + "' --distributed");
  if (!std::getenv("WORLD_SIZE")) {
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_TRUE(contains(r.output, "WORLD_SIZE is not set")) << r.output;
  }
  // Rank 0 of 2 alone: the rendezvous gives up after --dist-timeout.
  const auto start = std::chrono::steady_clock::now();
  const pid_t lonely =
      test::spawn_cli({"train", "--config", config, "--out", dir / "b", "--distributed", "--dist-timeout", "3"},
                      rank_env(0, 2, test_port(3)), dir / "lonely.log");
  const int code = test::wait_exit(lonely, 60);
  const std::string log = test::read_text(dir / "lonely.log");
  EXPECT_EQ(code, 1) << log;
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 30.0);
  EXPECT_TRUE(contains(log, "joining the group at 127.0.0.1:" + std::to_string(test_port(3)))) << log;
  EXPECT_FALSE(fs::exists(dir.path() / "b" / "checkpoint.pt"));
}

TEST(DistributedTrain, SegmentationTrainsOnTwoRanksWithRankZeroWriting) {
  test::ScratchDir dir;
  test::link_nuclei_tiles(dir.path(), 6);
  test::write_file(dir / "seg.yaml",
                   "task: segmentation\nseed: 1\n"
                   "data: {images: images, masks: masks, mask: instance, scale: 0.5, patch: 64, workers: 1,\n"
                   "       patches_per_image: 4, split: {train: 0.5, val: 0.17, test: 0.33, seed: 1}}\n"
                   "model: {arch: unet, extra: {depth: 2, width: 8}}\n"
                   "normalization: {mode: standardize}\n"
                   "train: {epochs: 2, batch_size: 4, optimizer: {name: adam, lr: 0.01}}\n");
  const auto r = test::run_shell(
      "MASTER_PORT=" + std::to_string(test_port(4)) + " " +
      launch(2, "train --threads 1 --config '" + (dir / "seg.yaml") + "' --out '" + (dir / "run") + "' --distributed"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "[rank 0] trained unet on 3 images")) << r.output;
  EXPECT_FALSE(contains(r.output, "[rank 1] trained")) << r.output;
  const std::string history = test::read_text(dir.path() / "run" / "log.csv");
  EXPECT_EQ(std::count(history.begin(), history.end(), '\n'), 3) << history;
  EXPECT_TRUE(fs::exists(dir.path() / "run" / "best.hpm"));
}

}  // namespace
}  // namespace hemapath
