// Input lists and the ledger that lets a sharded or interrupted batch be re-run.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "hemapath/core/error.h"
#include "hemapath/io/batch_inputs.h"
#include "test_support.h"

namespace hemapath {
namespace {
namespace fs = std::filesystem;

TEST(InputList, ReadsPathsRelativeToTheListAndSkipsCommentsAndBlanks) {
  test::ScratchDir dir;
  test::write_file(dir / "lists/slides.txt", "# archive 2026\n\na.svs\n  /data/b.svs  \nsub/c.svs\r\n");
  const auto inputs = read_input_list(dir / "lists/slides.txt");
  ASSERT_EQ(inputs.size(), 3u);
  EXPECT_EQ(inputs[0], (dir.path() / "lists" / "a.svs").string());
  EXPECT_EQ(inputs[1], "/data/b.svs");
  EXPECT_EQ(inputs[2], (dir.path() / "lists" / "sub" / "c.svs").string());
  test::write_file(dir / "empty.txt", "# nothing\n\n");
  EXPECT_THROW(read_input_list(dir / "empty.txt"), InputError);
  try {
    read_input_list(dir / "missing.txt");
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.txt"), std::string::npos);
  }
}

TEST(BatchLedger, ResultFileMarksFinishedAndErrorFileFailed) {
  test::ScratchDir dir;
  const BatchLedger ledger(dir.path() / "out", "summary.json");
  const std::string input = "/slides/case_01.svs";
  EXPECT_EQ(ledger.folder(input), dir.path() / "out" / "case_01");
  EXPECT_EQ(ledger.status(input).state, InputState::pending);
  ledger.record_failure(input, "'/slides/case_01.svs': not a slide");
  InputStatus s = ledger.status(input);
  EXPECT_EQ(s.state, InputState::failed);
  EXPECT_EQ(s.error, "'/slides/case_01.svs': not a slide");
  EXPECT_STREQ(state_name(s.state), "error");
  ledger.clear_failure(input);
  EXPECT_EQ(ledger.status(input).state, InputState::pending);
  test::write_file(ledger.result(input).string(), R"({"tiles": 3})");
  EXPECT_EQ(ledger.status(input).state, InputState::finished);
  EXPECT_EQ(ledger.result_json(input)["tiles"], 3);
  test::write_file(ledger.result(input).string(), "{truncated");
  EXPECT_THROW(ledger.result_json(input), InputError);
}

TEST(BatchLedger, ShardWorkSkipsOnlyWhatIsFinishedWhenAsked) {
  test::ScratchDir dir;
  const BatchLedger ledger(dir.path(), "summary.json");
  const std::vector<std::string> inputs{"/s/a.svs", "/s/b.svs", "/s/c.svs", "/s/d.svs", "/s/e.svs"};
  test::write_file(ledger.result("/s/c.svs").string(), "{}");
  ledger.record_failure("/s/a.svs", "broken");
  const ShardWork work = ledger.shard_work(inputs, {0, 2}, /*skip_finished=*/true);
  EXPECT_EQ(work.todo, (std::vector<size_t>{0, 4}));  // the failed one is tried again
  EXPECT_EQ(work.finished_before, 1u);
  EXPECT_EQ(work.taken(), 3u);
  EXPECT_EQ(ledger.shard_work(inputs, {0, 2}, false).todo, (std::vector<size_t>{0, 2, 4}));
  StatusCounts counts;
  for (const auto& input : inputs) counts.count(ledger.status(input).state);
  EXPECT_EQ(counts.finished, 1u);
  EXPECT_EQ(counts.failed, 1u);
  EXPECT_EQ(counts.pending, 3u);
}

TEST(FileLock, SecondHolderWaitsForTheFirst) {
  test::ScratchDir dir;
  const BatchLedger ledger(dir.path(), "summary.json");
  std::atomic<bool> released{false}, second_entered_early{false};
  auto first = ledger.lock();
  std::thread other([&] {
    auto second = ledger.lock();
    second_entered_early = !released.load();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  released = true;
  first.reset();
  other.join();
  EXPECT_FALSE(second_entered_early.load());
}

}  // namespace
}  // namespace hemapath
