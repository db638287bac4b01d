#pragma once
/// Data-parallel training on PyTorch's distributed backend (c10d): one process per worker,
/// joined through a TCPStore rendezvous at MASTER_ADDR:MASTER_PORT (launch_env.h), talking
/// over Gloo (CPU tensors, and CUDA tensors through host copies). Each rank runs the same
/// model on its share of every batch; gradients are averaged over the ranks in buckets
/// before each optimiser step, so every rank takes the same step.
///
/// Every collective call must be made by all ranks in the same order. A rank that stops
/// (killed, crashed) makes the next collective call on the others fail, or time out after
/// `timeout`; that surfaces as an Error naming the rank and the operation, never a hang.
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "hemapath/core/launch_env.h"
#include "hemapath/data/batch_loader.h"

namespace hemapath {

class DistributedGroup {
 public:
  /// Joins the group: rank 0 hosts the rendezvous store, the others connect to it. Returns
  /// once all `env.world_size` ranks have joined; Error when they have not after `timeout`
  /// or when rank 0's address cannot be reached.
  DistributedGroup(const LaunchEnv& env, std::chrono::milliseconds timeout);
  ~DistributedGroup();
  DistributedGroup(const DistributedGroup&) = delete;
  DistributedGroup& operator=(const DistributedGroup&) = delete;

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  /// Rank 0: the one that writes checkpoints, models and logs.
  bool is_main() const { return env_.rank == 0; }
  /// This rank's part of every global batch.
  BatchPart batch_part() const { return {env_.rank, env_.world_size}; }

  /// Copies rank 0's parameters and buffers into every rank's `module`, so all start equal
  /// whatever each initialised or loaded.
  void broadcast_module(torch::nn::Module& module);
  /// broadcast_module, then gives every rank but 0 a random stream of its own, derived from
  /// `seed`, its rank and `first_epoch`, so dropout and stochastic-depth masks are not the
  /// same on every rank's part of the batch. Rank 0 keeps the stream a single process has.
  void start_training(torch::nn::Module& module, uint64_t seed, int first_epoch);
  /// After backward: replaces the gradient of each parameter that requires one by the mean
  /// over all ranks' samples, each rank's gradient (of a mean loss over its
  /// `local_samples`) weighted by its sample count. A gradient missing on this rank counts
  /// as zero. Parameters are reduced in buckets of about 25 MiB, all in flight at once.
  void average_gradients(const std::vector<torch::Tensor>& parameters, int64_t local_samples);
  /// Mean over ranks of every floating-point buffer (BatchNorm running statistics), which
  /// each rank updated from its own share of the batches.
  void average_buffers(torch::nn::Module& module);
  /// Element-wise sums over ranks (loss sums, sample counts, confusion counts).
  std::vector<double> sum(const std::vector<double>& values);
  /// Returns when every rank has called it.
  void barrier();

 private:
  struct Backend;
  LaunchEnv env_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Backend> backend_;
};

}  // namespace hemapath
