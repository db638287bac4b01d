#include <gtest/gtest.h>

#include <fstream>

#include "hemapath/core/atomic_file.h"
#include "hemapath/core/device.h"
#include "hemapath/core/error.h"
#include "hemapath/core/random.h"
#include "test_support.h"

namespace hemapath {
namespace {

namespace fs = std::filesystem;

size_t files_in(const fs::path& dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

TEST(AtomicFile, AppearsOnlyOnCommitAndLeavesNothingWhenAbandoned) {
  test::ScratchDir dir;
  const fs::path target = dir.path() / "sub" / "out.csv";
  {
    AtomicFile file(target);
    EXPECT_EQ(file.temp_path().extension(), ".csv");  // writers choose formats by extension
    std::ofstream(file.temp_path()) << "partial";
    EXPECT_FALSE(fs::exists(target));
  }  // abandoned: e.g. an exception while writing
  EXPECT_FALSE(fs::exists(target));
  EXPECT_EQ(files_in(dir.path() / "sub"), 0u);

  write_text_atomic(target, "a,b\n");
  std::ifstream in(target);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "a,b\n");
  EXPECT_EQ(files_in(dir.path() / "sub"), 1u);

  AtomicFile empty(dir.path() / "never.txt");
  EXPECT_THROW(empty.commit(), OutputError);
}

TEST(Device, CpuResolvesAndOtherNamesAreExplained) {
  EXPECT_TRUE(resolve_device("cpu").is_cpu());
  try {
    resolve_device("gpu0");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cpu, cuda or cuda:N"), std::string::npos) << e.what();
  }
  if (!torch::cuda::is_available()) {
    try {
      resolve_device("cuda");
      FAIL();
    } catch (const DeviceError& e) {
      EXPECT_NE(std::string(e.what()).find("CUDA is not available"), std::string::npos) << e.what();
      EXPECT_EQ(e.exit_code(), 2);
    }
  }
  EXPECT_THROW(set_threads(-1), InputError);
}

TEST(Random, DerivedSeedsAreStableAndSeparateStreams) {
  EXPECT_EQ(derive_seed(1, {2, 3}), derive_seed(1, {2, 3}));
  EXPECT_NE(derive_seed(1, {2, 3}), derive_seed(1, {3, 2}));
  EXPECT_NE(derive_seed(1, {2, 3}), derive_seed(2, {2, 3}));
  EXPECT_NE(derive_seed(1, {0}), derive_seed(1, {}));
  seed_everything(5);
  torch::Tensor a = torch::rand({4});
  seed_everything(5);
  EXPECT_TRUE(torch::equal(a, torch::rand({4})));
}

TEST(Error, CheckMacroBuildsTheMessageAndTypeCarriesExitCode) {
  try {
    HP_CHECK(1 + 1 == 3, ConfigError, "key '", "x", "' = ", 7, ": expected 3");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "key 'x' = 7: expected 3");
    EXPECT_EQ(e.exit_code(), 2);
  }
  EXPECT_EQ(OutputError("x").exit_code(), 1);
}

}  // namespace
}  // namespace hemapath
