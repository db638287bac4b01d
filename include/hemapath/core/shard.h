#pragma once
/// Splitting a list of inputs among independent workers: shard i of n takes every input
/// whose position in the list is i modulo n, so n shards cover the list exactly once
/// whatever its length, and a shard's share does not depend on which inputs are finished.
#include <cstddef>
#include <string>

namespace hemapath {

struct Shard {
  int index = 0;  ///< 0 .. count-1
  int count = 1;
  bool takes(size_t position) const { return static_cast<int>(position % static_cast<size_t>(count)) == index; }
  bool whole() const { return count == 1; }
  std::string to_string() const { return std::to_string(index) + "/" + std::to_string(count); }
};

/// "i/n" (0 <= i < n), or "env" for RANK/WORLD_SIZE from the environment (launch_env.h).
/// ConfigError naming `option` and the expected form otherwise.
Shard parse_shard(const std::string& text, const std::string& option);

}  // namespace hemapath
