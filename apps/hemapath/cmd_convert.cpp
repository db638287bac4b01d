// hemapath convert: rewrites a model file with its weights in another precision (float16 halves
// the file, int8 quarters it, for models shipped in the repository) and, for segmenters, other cell options.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "hemapath/core/atomic_file.h"
#include "hemapath/core/error.h"
#include "hemapath/models/model_file.h"
#include "hemapath/train/segmentation_config.h"

namespace hemapath::cli {
namespace {
namespace fs = std::filesystem;

struct ConvertCommand {
  std::string in, out, precision = "float16";
  std::vector<std::string> instances;  // key=value changes to a segmentation model's cell options
};

// Applies "key=value" (value as JSON: numbers, true/false) to the header's instance options.
nlohmann::json with_instance_options(nlohmann::json header, const std::vector<std::string>& changes,
                                     const std::string& source) {
  if (changes.empty()) return header;
  HP_CHECK(header.value("task", "") == "segmentation", InputError, "--instances applies to segmentation models; '",
           source, "' is not one");
  for (const auto& change : changes) {
    const size_t eq = change.find('=');
    HP_CHECK(eq != std::string::npos && eq > 0, ConfigError, "--instances '", change, "': expected key=value");
    const std::string value = change.substr(eq + 1);
    header["instances"][change.substr(0, eq)] = nlohmann::json::accept(value) ? nlohmann::json::parse(value)
                                                                              : nlohmann::json(value);
  }
  instance_options_from_json(header["instances"]);  // ConfigError naming a bad key or value
  return header;
}

void run_convert(const ConvertCommand& cmd, const GlobalOptions& global) {
  apply_global(global);
  HP_CHECK(!is_same_existing_file(cmd.in, cmd.out), InputError, "convert: '", cmd.out,
           "' is the input file: write to another file");
  const nlohmann::json header = with_instance_options(read_model_header(cmd.in), cmd.instances, cmd.in);
  const std::string task = header.value("task", "");
  const WeightPrecision precision = weight_precision(cmd.precision);
  if (task == "classification") {
    save_model_file(cmd.out, header, *load_classifier(cmd.in, c10::kCPU).model, precision);
  } else if (task == "segmentation") {
    save_model_file(cmd.out, header, *load_segmenter(cmd.in, c10::kCPU).model, precision);
  } else {
    HP_CHECK(task == "autoencoder", ModelFileError, "model file '", cmd.in, "' has unknown task '", task, "'");
    save_model_file(cmd.out, header, *load_autoencoder(cmd.in, c10::kCPU).model, precision);
  }
  std::printf("%s (%.1f MB) -> %s (%.1f MB, %s weights)\n", cmd.in.c_str(), fs::file_size(cmd.in) / 1e6,
              cmd.out.c_str(), fs::file_size(cmd.out) / 1e6, cmd.precision.c_str());
}

}  // namespace

void setup_convert(CLI::App& app, const GlobalOptions& global) {
  auto cmd = std::make_shared<ConvertCommand>();
  CLI::App* sub = app.add_subcommand("convert", "Rewrite a model file with float16 (half the size), int8 (a quarter) or float32 weights");
  sub->add_option("input", cmd->in, "Model file (.hpm)")->required();
  sub->add_option("output", cmd->out, "New model file")->required();
  add_precision_flag(*sub, cmd->precision);
  sub->add_option("--instances", cmd->instances,
                  "Segmentation models: change how cells are cut out at inference, key=value as in a config's "
                  "instances section (e.g. interior_seeds=false marker_height=2)");
  sub->callback([cmd, &global] { run_convert(*cmd, global); });
}

}  // namespace hemapath::cli
