// Forward (inference) and training-step throughput of the registered classifiers on CPU.
// Run: build/bench/hemapath_bench --benchmark_filter=resnet18  (items/s = images/s)
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <torch/torch.h>

#include "hemapath/core/device.h"
#include "hemapath/models/classifier.h"
#include "hemapath/models/registry.h"

namespace {

// Same thread setting as the CLI's default (--threads 0: one per core); HEMAPATH_THREADS overrides.
void use_cli_threads(benchmark::State& state) {
  const char* env = std::getenv("HEMAPATH_THREADS");
  hemapath::set_threads(env ? std::atoi(env) : 0);
  state.counters["threads"] = torch::get_num_threads();
}

// A 4-class model with seeded weights, on the CLI's thread setting.
hemapath::ClassifierPtr seeded_model(benchmark::State& state, const std::string& arch) {
  use_cli_threads(state);
  torch::manual_seed(0);
  hemapath::ClassifierOptions options;
  options.num_classes = 4;
  return hemapath::create_classifier(arch, options);
}

void configure(benchmark::internal::Benchmark* b) {
  b->Args({1, 112})->Args({32, 112})->Unit(benchmark::kMillisecond)->UseRealTime();
}

void forward(benchmark::State& state, const std::string& arch) {
  auto model = seeded_model(state, arch);
  model->eval();
  torch::InferenceMode guard;
  torch::Tensor x = torch::rand({state.range(0), 3, state.range(1), state.range(1)});
  for (auto _ : state) benchmark::DoNotOptimize(model->forward(x));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void train_step(benchmark::State& state, const std::string& arch) {
  auto model = seeded_model(state, arch);
  model->train();
  torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-3));
  torch::Tensor x = torch::rand({state.range(0), 3, state.range(1), state.range(1)});
  torch::Tensor y = torch::randint(0, 4, {state.range(0)});
  for (auto _ : state) {
    optimizer.zero_grad();
    torch::nn::functional::cross_entropy(model->forward(x), y).backward();
    optimizer.step();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

}  // namespace

BENCHMARK_CAPTURE(forward, resnet18, std::string("resnet18"))->Apply(configure);
BENCHMARK_CAPTURE(forward, separable_cnn, std::string("separable_cnn"))->Apply(configure);
BENCHMARK_CAPTURE(forward, efficientnet_b0, std::string("efficientnet_b0"))->Apply(configure);
BENCHMARK_CAPTURE(forward, mobilenet_v3_small, std::string("mobilenet_v3_small"))->Apply(configure);
BENCHMARK_CAPTURE(train_step, resnet18, std::string("resnet18"))->Args({32, 112})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(train_step, separable_cnn, std::string("separable_cnn"))->Args({32, 112})->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
