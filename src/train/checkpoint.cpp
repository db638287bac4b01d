#include "hemapath/train/checkpoint.h"

#include <mutex>

#include "hemapath/core/atomic_file.h"
#include "hemapath/core/error.h"
#include "hemapath/train/weight_average.h"

namespace hemapath {
namespace fs = std::filesystem;

namespace {

torch::Tensor cpu_rng_state() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_cpu_rng_state(const torch::Tensor& state) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

InputError unreadable_checkpoint(const fs::path& path, const c10::Error& e) {
  const std::string what = e.what_without_backtrace();
  return InputError("--resume: checkpoint '" + path.string() + "' cannot be read (" + what.substr(0, what.find('\n')) +
                    ")");
}

}  // namespace

bool TrainingProgress::record(double value, int epoch, int patience) {
  if (value > best_value) {
    best_value = value;
    best_epoch = epoch;
    epochs_without_improvement = 0;
    return true;
  }
  if (patience > 0 && ++epochs_without_improvement >= patience) stopped_early = true;
  return false;
}

nlohmann::json TrainingProgress::to_json(const nlohmann::json& config) const {
  return {{"next_epoch", next_epoch},
          {"best_epoch", best_epoch},
          {"best_value", best_value},
          {"epochs_without_improvement", epochs_without_improvement},
          {"stopped_early", stopped_early},
          {"history", history},
          {"schedule", schedule_state},
          {"normalization", normalization.to_json()},
          {"config", config}};
}

TrainingProgress TrainingProgress::from_json(const nlohmann::json& state) {
  TrainingProgress p;
  try {
    p.next_epoch = state.at("next_epoch");
    p.best_epoch = state.at("best_epoch");
    p.best_value = state.at("best_value");
    p.epochs_without_improvement = state.at("epochs_without_improvement");
    p.stopped_early = state.at("stopped_early");
    p.history = state.at("history");
    p.schedule_state = state.at("schedule");
    p.normalization = Normalization::from_json(state.at("normalization"));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("--resume: the checkpoint's state is incomplete (") + e.what() + ")");
  }
  return p;
}

void save_training_checkpoint(const fs::path& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                              const WeightAverage* average, const nlohmann::json& state) {
  HP_CHECK(state.contains("config"), Error, "a checkpoint's state must hold the run's config");
  torch::serialize::OutputArchive archive, model_archive, optimizer_archive;
  model.save(model_archive);
  optimizer.save(optimizer_archive);
  archive.write("model", model_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("rng", cpu_rng_state());
  if (average) average->save(archive);
  archive.write("state", c10::IValue(state.dump()));
  AtomicFile file(path);
  archive.save_to(file.temp_path().string());
  file.commit();
}

nlohmann::json load_training_checkpoint(const fs::path& path, torch::nn::Module& model,
                                        torch::optim::Optimizer& optimizer, WeightAverage* average,
                                        const nlohmann::json& config) {
  HP_CHECK(fs::is_regular_file(path), InputError, "--resume: no checkpoint at '", path.string(),
           "': nothing to resume in that folder");
  nlohmann::json state;
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path.string());
    c10::IValue text;
    archive.read("state", text);
    state = nlohmann::json::parse(text.toStringRef());
  } catch (const c10::Error& e) {
    throw unreadable_checkpoint(path, e);
  } catch (const nlohmann::json::exception& e) {
    throw InputError("--resume: checkpoint '" + path.string() + "' holds a damaged state (" + e.what() + ")");
  }
  // Checked before any weights are read: other settings (a weight average switched on, say)
  // would otherwise surface as a missing tensor instead of the reason.
  HP_CHECK(state.value("config", nlohmann::json()) == config, InputError,
           "--resume: the config differs from the one the run in '", path.parent_path().string(),
           "' was started with; use the same config or a new --out folder");
  try {
    torch::serialize::InputArchive model_archive, optimizer_archive;
    archive.read("model", model_archive);
    archive.read("optimizer", optimizer_archive);
    model.load(model_archive);
    optimizer.load(optimizer_archive);
    torch::Tensor rng;
    archive.read("rng", rng);
    set_cpu_rng_state(rng);
    if (average) average->load(archive);
  } catch (const c10::Error& e) {
    throw unreadable_checkpoint(path, e);
  }
  return state;
}

}  // namespace hemapath
