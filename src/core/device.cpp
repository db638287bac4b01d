#include "hemapath/core/device.h"

#include <thread>

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "hemapath/core/error.h"

namespace hemapath {

c10::Device resolve_device(const std::string& name) {
  if (name == "cpu") return c10::Device(c10::kCPU);
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    HP_CHECK(torch::cuda::is_available(), DeviceError, "--device ", name,
             ": CUDA is not available (this LibTorch build has no CUDA support or no GPU is visible); use --device cpu");
    int index = 0;
    if (name.size() > 5) {
      try {
        index = std::stoi(name.substr(5));
      } catch (const std::exception&) {
        throw InputError("--device " + name + ": expected cuda:N with N a GPU index");
      }
    }
    HP_CHECK(index >= 0 && index < static_cast<int>(torch::cuda::device_count()), DeviceError, "--device ", name,
             ": no such GPU (", torch::cuda::device_count(), " visible)");
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw InputError("--device '" + name + "' is not known: expected cpu, cuda or cuda:N");
}

void set_threads(int threads) {
  HP_CHECK(threads >= 0, InputError, "--threads ", threads, ": expected 0 (all cores) or a positive count");
  int n = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(n);
  cv::setNumThreads(n);
}

}  // namespace hemapath
