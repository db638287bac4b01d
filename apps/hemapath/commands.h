#pragma once
// Each subcommand binds its flags to an options struct (setup_x) and calls the library.
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "hemapath/infer/inference_options.h"
#include "hemapath/infer/instances.h"

namespace hemapath::cli {

/// Flags every subcommand shares.
struct GlobalOptions {
  bool verbose = false;
  bool quiet = false;
};

/// Applies --verbose/--quiet; call first in every subcommand.
void apply_global(const GlobalOptions& global);

/// `message` as it names `path`, prefixed with the path when it does not (errors from deeper
/// down may not), for reporting one input of a batch.
std::string naming(const std::string& path, const std::string& message);

/// Where and how fast the model runs: --threads and --device, plus --batch-size and
/// --workers for commands that run inference over image sets.
struct ComputeFlags {
  int threads = 0;
  std::string device = "cpu";
  int batch_size = 32;
  int workers = 2;
  std::string plan = "auto";
  bool mixed_precision = false;
  /// The device and inference plan these flags name; DeviceError / ConfigError when invalid.
  InferenceOptions inference() const;
};

/// Adds --threads and --device; with `batches`, also --batch-size and --workers.
void add_compute_flags(CLI::App& sub, ComputeFlags& flags, bool batches);
/// Adds --plan and --mixed-precision, for commands that run trained models.
void add_inference_flags(CLI::App& sub, ComputeFlags& flags);

/// How cells are cut out of a map (--threshold, --no-watershed, --min-area, --max-area,
/// --marker-height, --min-distance, --no-fill-holes); unset flags keep the defaults given to
/// applied_to (a model's own settings, or InstanceOptions' defaults).
struct CellFlags {
  bool no_watershed = false, no_fill_holes = false;
  std::optional<double> threshold, marker_height;
  std::optional<int> min_area, max_area, min_distance;
  /// `defaults` with the given flags applied; ConfigError (naming the field) when invalid.
  InstanceOptions applied_to(InstanceOptions defaults) const;
};
void add_cell_flags(CLI::App& sub, CellFlags& flags);

/// Adds `name` (--symmetries): classifier logits averaged over that many flipped or turned
/// views of each crop (symmetry_averaging.h); `views` holds the default.
void add_symmetry_flag(CLI::App& sub, int& views, const std::string& name = "--symmetries");

/// Adds --precision: how a written model file stores its weights (model_file.h's WeightPrecision).
void add_precision_flag(CLI::App& sub, std::string& precision);

/// Path of a bundled model file (models/NAME): see bundled_models.cpp for where it is looked for.
std::string bundled_model(const std::string& name);

void setup_train(CLI::App& app, const GlobalOptions& global);
void setup_eval(CLI::App& app, const GlobalOptions& global);
void setup_predict(CLI::App& app, const GlobalOptions& global);
void setup_info(CLI::App& app, const GlobalOptions& global);
void setup_cv(CLI::App& app, const GlobalOptions& global);
void setup_compare(CLI::App& app, const GlobalOptions& global);
void setup_pretrain(CLI::App& app, const GlobalOptions& global);
void setup_instances(CLI::App& app, const GlobalOptions& global);
void setup_prepare_points(CLI::App& app, const GlobalOptions& global);
void setup_analyze(CLI::App& app, const GlobalOptions& global);
void setup_convert(CLI::App& app, const GlobalOptions& global);
void setup_ensemble(CLI::App& app, const GlobalOptions& global);
void setup_calibrate(CLI::App& app, const GlobalOptions& global);
void setup_slide(CLI::App& app, const GlobalOptions& global);
void setup_stain(CLI::App& app, const GlobalOptions& global);
void setup_al(CLI::App& app, const GlobalOptions& global);

}  // namespace hemapath::cli
