#include "hemapath/core/shard.h"

#include <cstdlib>

#include "hemapath/core/error.h"
#include "hemapath/core/launch_env.h"

namespace hemapath {

Shard parse_shard(const std::string& text, const std::string& option) {
  if (text == "env") {
    const LaunchEnv env = launch_env_from_environment();
    return {env.rank, env.world_size};
  }
  const auto slash = text.find('/');
  const std::string expected = option + " '" + text + "': expected i/n with 0 <= i < n (e.g. 0/4 .. 3/4), or env";
  HP_CHECK(slash != std::string::npos && slash > 0 && slash + 1 < text.size(), ConfigError, expected);
  const std::string index_text = text.substr(0, slash), count_text = text.substr(slash + 1);
  char *index_end = nullptr, *count_end = nullptr;
  const long index = std::strtol(index_text.c_str(), &index_end, 10);
  const long count = std::strtol(count_text.c_str(), &count_end, 10);
  HP_CHECK(*index_end == '\0' && *count_end == '\0' && count >= 1 && count <= 1000000 && index >= 0 && index < count,
           ConfigError, expected);
  return {static_cast<int>(index), static_cast<int>(count)};
}

}  // namespace hemapath
