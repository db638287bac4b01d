#include "hemapath/train/memory_format.h"

#include <stdexcept>

namespace hemapath {

torch::MemoryFormat training_memory_format(const std::string& name) {
  if (name == "channels_last") return torch::MemoryFormat::ChannelsLast;
  if (name == "contiguous") return torch::MemoryFormat::Contiguous;
  throw std::invalid_argument("unknown training memory format '" + name + "'");
}

void use_memory_format(torch::nn::Module& module, torch::MemoryFormat format) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters())
    if (p.dim() == 4) p.set_data(p.data().contiguous(format));
  for (auto& b : module.buffers())
    if (b.dim() == 4) b.set_data(b.data().contiguous(format));
}

torch::Tensor to_memory_format(const torch::Tensor& batch, torch::MemoryFormat format) {
  return batch.dim() == 4 ? batch.contiguous(format) : batch;
}

}  // namespace hemapath
