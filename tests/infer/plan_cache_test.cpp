// The plan cache: where it lives, what it remembers, and that a damaged or unwritable file
// never fails a run.
#include "hemapath/infer/plan_cache.h"

#include <gtest/gtest.h>

#include <fstream>

#include "test_support.h"

namespace hemapath {
namespace {
namespace fs = std::filesystem;

TEST(PlanCache, DefaultFileFollowsTheEnvironment) {
  test::ScopedEnv env;
  env.set("HEMAPATH_CACHE_DIR", "/somewhere");
  EXPECT_EQ(PlanCache::default_file(), fs::path("/somewhere/inference-plans.json"));
  env.set("HEMAPATH_CACHE_DIR", "");  // set but empty: no cache
  EXPECT_TRUE(PlanCache::default_file().empty());
  env.set("HEMAPATH_CACHE_DIR", nullptr);
  env.set("XDG_CACHE_HOME", "/xdg");
  EXPECT_EQ(PlanCache::default_file(), fs::path("/xdg/hemapath/inference-plans.json"));
  env.set("XDG_CACHE_HOME", nullptr);
  env.set("HOME", "/home/lab");
  EXPECT_EQ(PlanCache::default_file(), fs::path("/home/lab/.cache/hemapath/inference-plans.json"));
  env.set("HOME", nullptr);
  EXPECT_TRUE(PlanCache::default_file().empty());
}

TEST(PlanCache, RemembersEachKeyAndKeepsTheOthers) {
  test::ScratchDir dir;
  const PlanCache cache(dir / "sub/plans.json");  // the folder is made on the first store
  EXPECT_FALSE(cache.find("a"));
  cache.store("a", "mkldnn", "input [1, 3, 8, 8]");
  cache.store("b", "channels_last", "");
  cache.store("a", "channels_last", "again");
  EXPECT_EQ(cache.find("a"), "channels_last");
  EXPECT_EQ(PlanCache(dir / "sub/plans.json").find("b"), "channels_last");  // read back from the file
  EXPECT_FALSE(cache.find("c"));

  const PlanCache off;
  EXPECT_FALSE(off.enabled());
  off.store("a", "mkldnn", "");
  EXPECT_FALSE(off.find("a"));
}

TEST(PlanCache, DamagedOrUnwritableFilesAreSkipped) {
  test::ScratchDir dir;
  const fs::path file = dir.path() / "plans.json";
  test::write_file(file.string(), "{not json");
  const PlanCache cache(file);
  EXPECT_FALSE(cache.find("a"));
  cache.store("a", "mkldnn", "");  // replaces the damaged file
  EXPECT_EQ(cache.find("a"), "mkldnn");
  test::write_file(file.string(), R"({"a": {"plan": 3}, "b": "mkldnn"})");  // entries of the wrong shape
  EXPECT_FALSE(cache.find("a"));
  EXPECT_FALSE(cache.find("b"));

  test::write_file(dir / "a_file", "x");
  const PlanCache unwritable(dir.path() / "a_file/plans.json");  // its folder cannot be made
  EXPECT_NO_THROW(unwritable.store("a", "mkldnn", ""));
  EXPECT_FALSE(unwritable.find("a"));
}

}  // namespace
}  // namespace hemapath
