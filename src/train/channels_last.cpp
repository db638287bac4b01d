#include "hemapath/train/channels_last.h"

namespace hemapath {

void use_channels_last(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters())
    if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
  for (auto& b : module.buffers())
    if (b.dim() == 4) b.set_data(b.data().contiguous(torch::MemoryFormat::ChannelsLast));
}

torch::Tensor to_channels_last(const torch::Tensor& batch) {
  return batch.dim() == 4 ? batch.contiguous(torch::MemoryFormat::ChannelsLast) : batch;
}

}  // namespace hemapath
