#pragma once
/// Where this process sits among cooperating workers, read from the environment variables
/// torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT), so that Slurm's
/// srun, an mpirun wrapper, scripts/launch_local.sh or a plain shell loop can start hemapath
/// workers the way they start PyTorch ones.
#include <cstdint>
#include <string>

namespace hemapath {

struct LaunchEnv {
  int rank = 0;                           ///< 0 .. world_size-1; rank 0 writes checkpoints and logs
  int world_size = 1;                     ///< number of worker processes
  int local_rank = 0;                     ///< rank among the workers on this host (picks the GPU)
  std::string master_addr = "127.0.0.1";  ///< host of rank 0, where the rendezvous store listens
  uint16_t master_port = 29500;
};

/// Reads RANK and WORLD_SIZE (required), LOCAL_RANK (default: RANK), MASTER_ADDR (default
/// 127.0.0.1) and MASTER_PORT (default 29500). ConfigError naming the variable when one is
/// missing or malformed, or when RANK is outside 0..WORLD_SIZE-1.
LaunchEnv launch_env_from_environment();

}  // namespace hemapath
