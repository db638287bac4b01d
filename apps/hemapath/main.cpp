// hemapath command line: git-style subcommands, one file each.
#include <iostream>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "hemapath/core/device.h"
#include "hemapath/core/error.h"
#include "hemapath/core/log.h"
#include "hemapath/core/memory.h"
#include "hemapath/core/progress.h"
#include "hemapath/infer/plan_cache.h"
#include "hemapath/infer/symmetry_averaging.h"
#include "hemapath/models/model_file.h"

namespace hemapath::cli {

std::string naming(const std::string& path, const std::string& message) {
  return message.find(path) == std::string::npos ? "'" + path + "': " + message : message;
}

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

void add_inference_flags(CLI::App& sub, ComputeFlags& flags) {
  sub.add_option("--plan", flags.plan,
                 "Inference plan: auto, mkldnn, channels_last, frozen (compiled graphs, BatchNorm folded) or "
                 "eager (the network as trained). auto times mkldnn and channels_last on the first batches and "
                 "remembers the faster per network, input shape and machine in $HEMAPATH_CACHE_DIR (default "
                 "~/.cache/hemapath; set empty to time every run)");
  sub.add_flag("--mixed-precision", flags.mixed_precision, "float16 inference under autocast (CUDA devices only)");
}

InferenceOptions ComputeFlags::inference() const {
  InferenceOptions options{resolve_device(device), plan, mixed_precision, PlanCache::default_file().string()};
  check_inference_options(options);
  return options;
}

InstanceOptions CellFlags::applied_to(InstanceOptions options) const {
  if (no_watershed) options.watershed = false;
  if (no_fill_holes) options.fill_holes = false;
  if (threshold) options.threshold = *threshold;
  if (marker_height) options.marker_height = *marker_height;
  if (min_area) options.min_area = *min_area;
  if (max_area) options.max_area = *max_area;
  if (min_distance) options.min_distance = *min_distance;
  validate(options);
  return options;
}

void add_symmetry_flag(CLI::App& sub, int& views, const std::string& name) {
  sub.add_option(name, views,
                 "Classify each crop as the average over 1, 2 (mirror), 4 (flips), 8 (flips and quarter turns) or "
                 "16 (those 8, and the 8 of the crop turned by 45 degrees) views; each view costs one more forward "
                 "pass")
      ->check(CLI::IsMember(symmetry_view_counts()))
      ->capture_default_str();
}

void add_precision_flag(CLI::App& sub, std::string& precision) {
  sub.add_option("--precision", precision,
                 "Weights as float16 (half the size), int8 (a quarter: convolution and linear weights as 8-bit "
                 "integers with a scale per output channel) or float32")
      ->check(CLI::IsMember(weight_precision_names()))
      ->capture_default_str();
}

void add_cell_flags(CLI::App& sub, CellFlags& flags) {
  sub.add_option("--threshold", flags.threshold, "Foreground where p >= threshold")->check(CLI::Range(0.0, 1.0));
  sub.add_flag("--no-watershed", flags.no_watershed, "One cell per connected component (touching cells not split)");
  sub.add_flag("--no-fill-holes", flags.no_fill_holes, "Keep holes inside the foreground");
  sub.add_option("--min-area", flags.min_area, "Drop cells smaller than this (px)")->check(CLI::NonNegativeNumber);
  sub.add_option("--max-area", flags.max_area, "Drop cells larger than this (px); 0 = no limit")
      ->check(CLI::NonNegativeNumber);
  sub.add_option("--min-distance", flags.min_distance, "Merge watershed seeds closer than this (px)")
      ->check(CLI::NonNegativeNumber);
  sub.add_option("--marker-height", flags.marker_height,
                 "Depth (px) a distance-map peak needs to seed its own cell; larger splits less")
      ->check(CLI::PositiveNumber);
}
}  // namespace hemapath::cli

int main(int argc, char** argv) {
  using namespace hemapath;
  keep_freed_memory_for_reuse();
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
  cli::setup_prepare_points(app, global);
  cli::setup_analyze(app, global);
  cli::setup_convert(app, global);
  cli::setup_ensemble(app, global);
  cli::setup_calibrate(app, global);
  cli::setup_slide(app, global);
  cli::setup_stain(app, global);
  cli::setup_al(app, global);
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
