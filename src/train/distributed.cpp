#include "hemapath/train/distributed.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <cstdlib>
#include <string>

#include "hemapath/core/error.h"
#include "hemapath/core/log.h"
#include "hemapath/core/random.h"

namespace hemapath {

namespace {

constexpr int64_t kBucketBytes = 25 << 20;  // as PyTorch's DistributedDataParallel

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// Gloo listens on the address other ranks reach this one by: the interface GLOO_SOCKET_IFNAME
// names, loopback when the whole group is on this host, else this host name's address.
std::shared_ptr<::gloo::transport::Device> gloo_device(const LaunchEnv& env) {
  if (const char* name = std::getenv("GLOO_SOCKET_IFNAME"); name && *name)
    return c10d::ProcessGroupGloo::createDeviceForInterface(name);
  if (env.master_addr == "localhost" || env.master_addr.rfind("127.", 0) == 0)
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

// Runs one step of the collective protocol, turning c10d's and Gloo's exceptions (with
// their backtraces) into one line that says which rank failed at what.
template <typename F>
void guarded(const LaunchEnv& env, const std::string& what, F&& step) {
  try {
    step();
  } catch (const c10::Error& e) {
    throw Error(detail::concat(
        "distributed run, rank ", env.rank, " of ", env.world_size, ": ", what,
        " failed (another worker has probably stopped: see its log): ", first_line(e.what_without_backtrace())));
  } catch (const std::exception& e) {
    throw Error(detail::concat("distributed run, rank ", env.rank, " of ", env.world_size, ": ", what,
                               " failed (another worker has probably stopped: see its log): ", first_line(e.what())));
  }
}

}  // namespace

struct DistributedGroup::Backend {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

DistributedGroup::DistributedGroup(const LaunchEnv& env, std::chrono::milliseconds timeout)
    : env_(env), timeout_(timeout), backend_(std::make_unique<Backend>()) {
  const std::string where = env_.master_addr + ":" + std::to_string(env_.master_port);
  guarded(env_, "joining the group at " + where + " (MASTER_ADDR:MASTER_PORT)", [&] {
    c10d::TCPStoreOptions store_options;
    store_options.port = env_.master_port;
    store_options.isServer = env_.rank == 0;
    store_options.numWorkers = static_cast<size_t>(env_.world_size);
    store_options.waitWorkers = true;
    store_options.timeout = timeout_;
    backend_->store = c10::make_intrusive<c10d::TCPStore>(env_.master_addr, store_options);
    auto options = c10d::ProcessGroupGloo::Options::create(timeout_);
    options->devices.push_back(gloo_device(env_));
    options->threads = 2;
    backend_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(backend_->store, env_.rank, env_.world_size, options);
  });
  logger("train")->info("rank {} of {} joined the group at {}:{}", env_.rank, env_.world_size, env_.master_addr,
                        env_.master_port);
}

DistributedGroup::~DistributedGroup() = default;

void DistributedGroup::broadcast_module(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> tensors;
  for (const auto& p : module.parameters()) tensors.push_back(p);
  for (const auto& b : module.buffers()) tensors.push_back(b);
  guarded(env_, "broadcasting rank 0's weights", [&] {
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (auto& t : tensors) {
      std::vector<torch::Tensor> one{t.is_contiguous() ? t : t.contiguous()};
      works.push_back(backend_->group->broadcast(one));
      if (!t.is_contiguous()) {  // broadcast into a copy: wait and copy back
        works.back()->wait(timeout_);
        t.copy_(one[0]);
      }
    }
    for (auto& w : works) w->wait(timeout_);
  });
}

void DistributedGroup::start_training(torch::nn::Module& module, uint64_t seed, int first_epoch) {
  broadcast_module(module);
  if (env_.rank != 0)
    seed_everything(derive_seed(seed, {0xD157, static_cast<uint64_t>(env_.rank), static_cast<uint64_t>(first_epoch)}));
}

void DistributedGroup::average_gradients(const std::vector<torch::Tensor>& parameters, int64_t local_samples) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> trainable;
  for (const auto& p : parameters)
    if (p.requires_grad()) trainable.push_back(p);
  if (trainable.empty()) return;
  // Buckets of consecutive parameters, each flattened into one tensor scaled by this rank's
  // sample count; the total count rides along as a bucket of its own.
  std::vector<std::vector<torch::Tensor>> members(1);
  int64_t bytes = 0;
  for (const auto& p : trainable) {
    const int64_t size = p.numel() * p.element_size();
    if (!members.back().empty() && bytes + size > kBucketBytes) members.emplace_back(), bytes = 0;
    members.back().push_back(p);
    bytes += size;
  }
  std::vector<torch::Tensor> flat;
  const double weight = static_cast<double>(local_samples);
  for (const auto& bucket : members) {
    std::vector<torch::Tensor> pieces;
    for (const auto& p : bucket)
      pieces.push_back(p.grad().defined() ? p.grad().reshape(-1) * weight : torch::zeros({p.numel()}, p.options()));
    flat.push_back(torch::cat(pieces));
  }
  torch::Tensor count = torch::full({1}, weight, torch::TensorOptions().dtype(torch::kDouble));
  guarded(env_, "averaging gradients", [&] {
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (auto& f : flat) {
      std::vector<torch::Tensor> one{f};
      works.push_back(backend_->group->allreduce(one));
    }
    std::vector<torch::Tensor> one{count};
    works.push_back(backend_->group->allreduce(one));
    for (auto& w : works) w->wait(timeout_);
  });
  const double total = count.item<double>();
  HP_CHECK(total > 0, Error, "distributed run: no rank had samples in this batch");
  for (size_t b = 0; b < members.size(); ++b) {
    int64_t offset = 0;
    for (auto& p : members[b]) {
      torch::Tensor mean = flat[b].narrow(0, offset, p.numel()).view(p.sizes()) / total;
      if (p.grad().defined())
        p.mutable_grad().copy_(mean);
      else
        p.mutable_grad() = mean.clone();
      offset += p.numel();
    }
  }
}

void DistributedGroup::average_buffers(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> buffers;
  for (const auto& b : module.buffers())
    if (b.is_floating_point()) buffers.push_back(b);
  if (buffers.empty()) return;
  std::vector<torch::Tensor> pieces;
  for (const auto& b : buffers) pieces.push_back(b.reshape(-1));
  torch::Tensor flat = torch::cat(pieces);
  guarded(env_, "averaging BatchNorm statistics", [&] {
    std::vector<torch::Tensor> one{flat};
    backend_->group->allreduce(one)->wait(timeout_);
  });
  flat /= env_.world_size;
  int64_t offset = 0;
  for (auto& b : buffers) {
    b.copy_(flat.narrow(0, offset, b.numel()).view(b.sizes()));
    offset += b.numel();
  }
}

std::vector<double> DistributedGroup::sum(const std::vector<double>& values) {
  if (values.empty()) return values;
  torch::Tensor t = torch::tensor(values, torch::TensorOptions().dtype(torch::kDouble));
  guarded(env_, "summing metrics", [&] {
    std::vector<torch::Tensor> one{t};
    backend_->group->allreduce(one)->wait(timeout_);
  });
  return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
}

void DistributedGroup::barrier() {
  guarded(env_, "waiting for the other ranks", [&] { backend_->group->barrier()->wait(timeout_); });
}

}  // namespace hemapath
