#pragma once
/// How a network runs for inference (see inference_engine.h): kept free of torch so that
/// options structs and the CLI can carry it.
#include <string>
#include <utility>
#include <vector>

#include <c10/core/Device.h>

namespace hemapath {

struct InferenceOptions {
  InferenceOptions(c10::Device device = c10::kCPU, std::string plan = "auto", bool mixed_precision = false,
                   std::string plan_cache = {})
      : device(device), plan(std::move(plan)), mixed_precision(mixed_precision), plan_cache(std::move(plan_cache)) {}

  c10::Device device;
  /// "auto" (on the CPU, mkldnn or channels_last, whichever runs the first compiled shape faster; on
  /// CUDA, channels_last), "mkldnn" (frozen graph in oneDNN's blocked layout, CPU only),
  /// "channels_last" (frozen graph, NHWC activations), "frozen" (frozen graph, default layout)
  /// or "eager" (the module itself in inference mode: the reference).
  std::string plan;
  /// CUDA only: run under autocast (float16 convolutions, float32 reductions).
  bool mixed_precision;
  /// File where "auto" remembers the layout it chose per network, input shape and machine
  /// (infer/plan_cache.h), so later runs skip the trial; empty: every run times the layouts.
  /// hemapath's commands use PlanCache::default_file().
  std::string plan_cache;
};

/// The plan names, for messages.
const std::vector<std::string>& inference_plans();

/// ConfigError naming `option`, listing the valid plans, for an unknown plan; DeviceError when
/// the plan or mixed precision cannot run on the device.
void check_inference_options(const InferenceOptions& options, const std::string& option = "--plan");

}  // namespace hemapath
