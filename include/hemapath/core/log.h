#pragma once
/// Logging: spdlog loggers with a subsystem prefix ("[train]", "[data]") written to stderr.
/// The library never prints to stdout; verbosity is set once by the CLI.
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace hemapath {

enum class Verbosity { quiet, normal, verbose };

/// Sets the level of every hemapath logger: quiet = warnings and errors only,
/// normal = info, verbose = debug.
void set_verbosity(Verbosity verbosity);

/// The logger of one subsystem, created on first use; its lines carry "[subsystem]".
std::shared_ptr<spdlog::logger> logger(const std::string& subsystem);

}  // namespace hemapath
