// hemapath command line: git-style subcommands, one file each.
#include <iostream>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "hemapath/core/error.h"
#include "hemapath/core/log.h"
#include "hemapath/core/progress.h"

namespace hemapath::cli {
void apply_global(const GlobalOptions& global) {
  if (global.verbose && global.quiet) throw InputError("--verbose and --quiet cannot be used together");
  set_verbosity(global.verbose ? Verbosity::verbose : global.quiet ? Verbosity::quiet : Verbosity::normal);
  Progress::set_enabled(!global.quiet);
}

void add_compute_flags(CLI::App& sub, ComputeFlags& flags, bool batches) {
  sub.add_option("--threads", flags.threads, "Compute threads; 0 = one per core")->check(CLI::NonNegativeNumber);
  sub.add_option("--device", flags.device, "cpu, cuda or cuda:N");
  if (!batches) return;
  sub.add_option("--batch-size", flags.batch_size, "Images per batch")->check(CLI::PositiveNumber);
  sub.add_option("--workers", flags.workers, "Threads decoding images")->check(CLI::PositiveNumber);
}

InstanceOptions CellFlags::applied_to(InstanceOptions options) const {
  if (no_watershed) options.watershed = false;
  if (threshold) options.threshold = *threshold;
  if (min_area) options.min_area = *min_area;
  return options;
}

void add_cell_flags(CLI::App& sub, CellFlags& flags) {
  sub.add_flag("--no-watershed", flags.no_watershed,
               "Segmentation: one cell per connected component (touching cells are not split)");
  sub.add_option("--threshold", flags.threshold, "Segmentation: foreground where p >= threshold (default: the model's)")
      ->check(CLI::Range(0.0, 1.0));
  sub.add_option("--min-area", flags.min_area, "Segmentation: drop cells smaller than this, px (default: the model's)")
      ->check(CLI::NonNegativeNumber);
}
}  // namespace hemapath::cli

int main(int argc, char** argv) {
  using namespace hemapath;
  CLI::App app{"hemapath " HEMAPATH_VERSION
               ": deep-learning analysis of blood smears and whole-slide images.\n"
               "Train, evaluate and run cell classifiers; results as CSV, JSON and PNG.",
               "hemapath"};
  app.set_version_flag("--version", HEMAPATH_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  app.option_defaults()->always_capture_default();
  cli::GlobalOptions global;
  app.add_flag("-v,--verbose", global.verbose, "Debug-level log lines on stderr");
  app.add_flag("-q,--quiet", global.quiet, "Only warnings and errors on stderr; no progress bars");
  app.footer("Exit codes: 0 success, 1 the work failed, 2 usage or bad input.\n"
             "Run 'hemapath SUBCOMMAND --help' for a subcommand's flags.");
  cli::setup_train(app, global);
  cli::setup_eval(app, global);
  cli::setup_predict(app, global);
  cli::setup_info(app, global);
  cli::setup_cv(app, global);
  cli::setup_compare(app, global);
  cli::setup_pretrain(app, global);
  cli::setup_instances(app, global);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const Error& e) {
    std::cerr << "hemapath: error: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "hemapath: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
