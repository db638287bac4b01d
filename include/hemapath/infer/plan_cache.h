#pragma once
/// The layouts the inference engine's "auto" plan chose, remembered between runs: timing the
/// candidate layouts costs about a second per network (compiling and checking each), which a
/// lab running slide after slide should pay once per network, input shape and machine, not
/// once per run. The file is a JSON object from a key (inference_engine.cpp builds it from the
/// network's parameter names and shapes, the input shape, the thread count, the CPU and the
/// LibTorch version) to the layout chosen. Only speed depends on it: every compiled graph is
/// still checked against the network's own output.
///
/// Best effort: a missing, unreadable or damaged file remembers nothing (logged), and a file
/// that cannot be written is skipped with a warning; neither fails a run.
#include <filesystem>
#include <optional>
#include <string>

namespace hemapath {

/// The CPU's model name (/proc/cpuinfo's first "model name"); empty when unknown. Part of a
/// plan cache key: the same network can prefer another layout on another CPU.
std::string cpu_model_name();

class PlanCache {
 public:
  /// `file` empty: remembers nothing.
  explicit PlanCache(std::filesystem::path file = {});

  /// The cache hemapath's commands use: inference-plans.json in $HEMAPATH_CACHE_DIR when that is
  /// set (set but empty: no cache), else in $XDG_CACHE_HOME/hemapath, else in
  /// $HOME/.cache/hemapath; no cache when none of these is set.
  static std::filesystem::path default_file();

  bool enabled() const { return !file_.empty(); }
  const std::filesystem::path& file() const { return file_; }

  /// The layout stored under `key`, if any.
  std::optional<std::string> find(const std::string& key) const;
  /// Stores `layout` under `key` (a locked read-modify-write, so runs in parallel keep each
  /// other's entries), with `note` (e.g. the timings) beside it for people reading the file.
  void store(const std::string& key, const std::string& layout, const std::string& note) const;

 private:
  std::filesystem::path file_;
};

}  // namespace hemapath
