#include "hemapath/core/launch_env.h"

#include <cstdlib>
#include <optional>

#include "hemapath/core/error.h"

namespace hemapath {

namespace {

std::optional<std::string> variable(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) return std::nullopt;
  return std::string(value);
}

int integer_variable(const char* name, const std::string& text, long min, long max) {
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  HP_CHECK(end && *end == '\0' && value >= min && value <= max, ConfigError, "environment variable ", name, "='", text,
           "': expected an integer in ", min, "..", max);
  return static_cast<int>(value);
}

int required_integer(const char* name, long min, long max) {
  const auto text = variable(name);
  HP_CHECK(text, ConfigError, "environment variable ", name,
           " is not set: a distributed run needs RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT (as torchrun, srun "
           "with the sbatch script in docs/distributed.md, or scripts/launch_local.sh set them)");
  return integer_variable(name, *text, min, max);
}

}  // namespace

LaunchEnv launch_env_from_environment() {
  LaunchEnv env;
  env.world_size = required_integer("WORLD_SIZE", 1, 65536);
  env.rank = required_integer("RANK", 0, 65535);
  HP_CHECK(env.rank < env.world_size, ConfigError, "environment variable RANK=", env.rank,
           " is outside 0..WORLD_SIZE-1 (WORLD_SIZE=", env.world_size, ")");
  const auto local = variable("LOCAL_RANK");
  env.local_rank = local ? integer_variable("LOCAL_RANK", *local, 0, 65535) : env.rank;
  if (const auto addr = variable("MASTER_ADDR")) env.master_addr = *addr;
  if (const auto port = variable("MASTER_PORT"))
    env.master_port = static_cast<uint16_t>(integer_variable("MASTER_PORT", *port, 1, 65535));
  return env;
}

}  // namespace hemapath
