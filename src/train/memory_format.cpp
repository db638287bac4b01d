#include "hemapath/train/memory_format.h"

#include <ATen/CPUGeneratorImpl.h>

#include <functional>
#include <stdexcept>
#include <vector>

#include "hemapath/core/error.h"
#include "hemapath/core/log.h"
#include "hemapath/models/classifier.h"
#include "hemapath/train/loss_prediction.h"
#include "hemapath/train/train_config.h"

namespace hemapath {
namespace {

// Each layout's config name, and the torch layout of its plain tensors (weights, and batches
// except oneDNN's, which to_layout converts).
struct LayoutEntry {
  TrainingLayout layout;
  const char* name;
  torch::MemoryFormat format;
};
constexpr LayoutEntry kLayouts[] = {
    {TrainingLayout::contiguous, "contiguous", torch::MemoryFormat::Contiguous},
    {TrainingLayout::channels_last, "channels_last", torch::MemoryFormat::ChannelsLast},
    {TrainingLayout::mkldnn, "mkldnn", torch::MemoryFormat::Contiguous},
};

const LayoutEntry& entry(TrainingLayout layout) {
  for (const LayoutEntry& e : kLayouts)
    if (e.layout == layout) return e;
  throw std::logic_error("training layout without an entry");
}

// Whether a backward pass through `loss` (a step on a batch in oneDNN's blocked layout) runs;
// `why` gets LibTorch's reason when not. Leaves buffers, gradients and the CPU generator as found.
bool step_runs_in_mkldnn(torch::nn::Module& module, const std::function<torch::Tensor()>& loss, std::string& why) {
  std::vector<torch::Tensor> buffers;
  {
    torch::NoGradGuard no_grad;
    for (const auto& b : module.buffers()) buffers.push_back(b.clone());
  }
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  const torch::Tensor random_state = generator.get_state();
  bool runs = true;
  try {
    loss().backward();
  } catch (const c10::Error& e) {
    why = e.what_without_backtrace();
    why = why.substr(0, why.find('\n'));
    runs = false;
  }
  generator.set_state(random_state);
  torch::NoGradGuard no_grad;
  size_t i = 0;
  for (auto& b : module.buffers()) b.copy_(buffers[i++]);
  for (auto& p : module.parameters()) p.mutable_grad().reset();
  return runs;
}

}  // namespace

TrainingLayout training_layout(const std::string& name) {
  for (const LayoutEntry& e : kLayouts)
    if (name == e.name) return e.layout;
  throw std::invalid_argument("unknown training memory format '" + name + "'");
}

std::string layout_name(TrainingLayout layout) { return entry(layout).name; }

void use_layout(torch::nn::Module& module, TrainingLayout layout) {
  const torch::MemoryFormat format = entry(layout).format;
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters())
    if (p.dim() == 4) p.set_data(p.data().contiguous(format));
  for (auto& b : module.buffers())
    if (b.dim() == 4) b.set_data(b.data().contiguous(format));
}

torch::Tensor to_layout(const torch::Tensor& batch, TrainingLayout layout) {
  if (batch.dim() != 4) return batch;
  return layout == TrainingLayout::mkldnn ? batch.to_mkldnn() : batch.contiguous(entry(layout).format);
}

TrainingLayout classifier_layout(const TrainConfig& config, ClassifierImpl& model, const c10::Device& device) {
  const std::string& name = config.memory_format;
  if (name != "auto" && name != "mkldnn") return training_layout(name);
  const bool asked = name == "mkldnn";
  HP_CHECK(!asked || device.is_cpu(), ConfigError, "train.memory_format mkldnn runs on the CPU only (device ",
           device.str(), "); use channels_last");
  if (!asked && (!device.is_cpu() || config.arch.rfind("resnet", 0) != 0)) return TrainingLayout::channels_last;
  const int64_t side = config.crop.size;
  const torch::Tensor crops = torch::zeros({2, config.model.in_channels, side, side});
  const torch::Tensor targets = torch::arange(2);  // classifiers have at least two classes
  std::string why;
  if (step_runs_in_mkldnn(
          model,
          [&] {
            return classification_loss_terms(model, to_layout(crops, TrainingLayout::mkldnn), targets, {},
                                             config.loss_head, false)
                .total;
          },
          why))
    return TrainingLayout::mkldnn;
  HP_CHECK(!asked, ConfigError, "train.memory_format mkldnn: network '", config.arch,
           "' has an op without a oneDNN kernel (", why, "); use channels_last or contiguous");
  logger("train")->debug("training in channels_last: '{}' does not run in oneDNN's layout ({})", config.arch, why);
  return TrainingLayout::channels_last;
}

}  // namespace hemapath
