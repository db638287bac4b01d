#include "hemapath/core/log.h"

#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace hemapath {
namespace {

std::mutex& registry_mutex() {
  static std::mutex mutex;
  return mutex;
}

spdlog::level::level_enum& current_level() {
  static spdlog::level::level_enum level = spdlog::level::info;
  return level;
}

spdlog::sink_ptr shared_sink() {
  static spdlog::sink_ptr sink = [] {
    auto s = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    s->set_pattern("%H:%M:%S %^%l%$ [%n] %v");
    return s;
  }();
  return sink;
}

}  // namespace

void set_verbosity(Verbosity verbosity) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  switch (verbosity) {
    case Verbosity::quiet: current_level() = spdlog::level::warn; break;
    case Verbosity::normal: current_level() = spdlog::level::info; break;
    case Verbosity::verbose: current_level() = spdlog::level::debug; break;
  }
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->set_level(current_level()); });
}

std::shared_ptr<spdlog::logger> logger(const std::string& subsystem) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  if (auto existing = spdlog::get(subsystem)) return existing;
  auto created = std::make_shared<spdlog::logger>(subsystem, shared_sink());
  created->set_level(current_level());
  spdlog::register_logger(created);
  return created;
}

}  // namespace hemapath
