// Shards of an input list and the launcher's environment.
#include "hemapath/core/shard.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "hemapath/core/error.h"
#include "hemapath/core/launch_env.h"
#include "test_support.h"

namespace hemapath {
namespace {

TEST(Shard, FourShardsTakeEachOfTwentyInputsExactlyOnce) {
  std::multiset<size_t> taken;
  for (int i = 0; i < 4; ++i) {
    const Shard shard = parse_shard(std::to_string(i) + "/4", "--shard");
    size_t mine = 0;
    for (size_t k = 0; k < 20; ++k)
      if (shard.takes(k)) taken.insert(k), ++mine;
    EXPECT_EQ(mine, 5u);
  }
  ASSERT_EQ(taken.size(), 20u);
  for (size_t k = 0; k < 20; ++k) EXPECT_EQ(taken.count(k), 1u) << k;
  EXPECT_TRUE(parse_shard("0/1", "--shard").whole());
  EXPECT_EQ(parse_shard("2/3", "--shard").to_string(), "2/3");
}

TEST(Shard, MalformedShardsNameTheOptionAndTheForm) {
  for (const char* bad : {"4/4", "-1/4", "1/0", "1", "a/b", "1/4x", "/4", "1/"}) {
    try {
      parse_shard(bad, "--shard");
      ADD_FAILURE() << bad << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("--shard '" + std::string(bad) + "': expected i/n"), std::string::npos)
          << e.what();
    }
  }
}

TEST(LaunchEnv, ReadsTorchrunVariablesAndNamesTheBadOne) {
  test::ScopedEnv env;
  env.set("RANK", "2");
  env.set("WORLD_SIZE", "4");
  env.set("LOCAL_RANK", nullptr);
  env.set("MASTER_ADDR", "node7");
  env.set("MASTER_PORT", "29611");
  LaunchEnv e = launch_env_from_environment();
  EXPECT_EQ(e.rank, 2);
  EXPECT_EQ(e.world_size, 4);
  EXPECT_EQ(e.local_rank, 2);  // RANK when LOCAL_RANK is unset
  EXPECT_EQ(e.master_addr, "node7");
  EXPECT_EQ(e.master_port, 29611);
  const Shard shard = parse_shard("env", "--shard");
  EXPECT_EQ(shard.index, 2);
  EXPECT_EQ(shard.count, 4);

  auto message = [] {
    try {
      launch_env_from_environment();
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  env.set("RANK", "4");
  EXPECT_NE(message().find("RANK=4 is outside 0..WORLD_SIZE-1"), std::string::npos) << message();
  env.set("RANK", "1");
  env.set("MASTER_PORT", "99999");
  EXPECT_NE(message().find("MASTER_PORT='99999'"), std::string::npos) << message();
  env.set("MASTER_PORT", "29611");
  env.set("WORLD_SIZE", nullptr);
  EXPECT_NE(message().find("WORLD_SIZE is not set"), std::string::npos) << message();
}

}  // namespace
}  // namespace hemapath
