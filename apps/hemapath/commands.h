#pragma once
// Each subcommand binds its flags to an options struct (setup_x) and calls the library.
#include <string>

#include <CLI/CLI.hpp>

namespace hemapath::cli {

/// Flags every subcommand shares.
struct GlobalOptions {
  bool verbose = false;
  bool quiet = false;
};

/// Applies --verbose/--quiet; call first in every subcommand.
void apply_global(const GlobalOptions& global);

void setup_train(CLI::App& app, const GlobalOptions& global);
void setup_eval(CLI::App& app, const GlobalOptions& global);
void setup_predict(CLI::App& app, const GlobalOptions& global);
void setup_info(CLI::App& app, const GlobalOptions& global);

}  // namespace hemapath::cli
