#pragma once
/// Compute device and thread settings.
#include <string>

#include <c10/core/Device.h>

namespace hemapath {

/// "cpu", "cuda" or "cuda:N". Throws DeviceError when CUDA is asked for but this LibTorch
/// build or this machine has none, and InputError for any other name.
c10::Device resolve_device(const std::string& name);

/// Intra-op threads for LibTorch and OpenCV; 0 means one per core.
void set_threads(int threads);

}  // namespace hemapath
