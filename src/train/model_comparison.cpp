#include "hemapath/train/model_comparison.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <set>

#include "hemapath/core/atomic_file.h"
#include "hemapath/core/device.h"
#include "hemapath/core/error.h"
#include "hemapath/core/json_number.h"
#include "hemapath/core/log.h"
#include "hemapath/io/csv.h"
#include "hemapath/io/plot.h"
#include "hemapath/models/classifier.h"
#include "hemapath/models/complexity.h"
#include "hemapath/models/registry.h"

namespace hemapath {
namespace {
namespace fs = std::filesystem;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string scheme_name(const CvOptions& cv) {
  return cv.scheme == "kfold" ? "kfold:" + std::to_string(cv.folds) : cv.scheme;
}

// The training config one architecture is cross-validated with.
TrainConfig config_for(const TrainConfig& base, const std::string& arch, int size) {
  TrainConfig config = base;
  // `extra` keys belong to one architecture (width of separable_cnn, zero_init_residual of
  // ResNets ...): another architecture would reject them, so it gets its defaults.
  if (arch != base.arch) config.model.extra = nlohmann::json::object();
  config.arch = arch;
  config.crop.size = size;
  return config;
}

int64_t head_size(const ComparisonOptions& options) {
  if (options.config && !options.config->data.classes.empty())
    return static_cast<int64_t>(options.config->data.classes.size());
  return options.num_classes;
}

ClassifierPtr build(const std::string& arch, const ComparisonOptions& options) {
  ClassifierOptions model_options;
  if (options.config) {
    model_options = options.config->model;
    if (arch != options.config->arch) model_options.extra = nlohmann::json::object();
  }
  model_options.num_classes = head_size(options);
  return create_classifier(arch, model_options);
}

// Everything that can be checked without measuring or training, so a bad call fails at once.
void check_options(const ComparisonOptions& options) {
  HP_CHECK(!options.archs.empty(), InputError, "--archs: expected at least one architecture");
  const std::vector<std::string> names = classifier_names();
  std::set<std::string> seen;
  for (const std::string& arch : options.archs) {
    HP_CHECK(seen.insert(arch).second, InputError, "--archs lists '", arch, "' twice");
    if (std::find(names.begin(), names.end(), arch) != names.end()) continue;
    // The registry's own message lists the valid names.
    try {
      create_classifier(arch, ClassifierOptions{});
    } catch (const InputError& e) {
      throw InputError(std::string("--archs: ") + e.what());
    }
    throw InputError("--archs: unknown architecture '" + arch + "'");
  }
  HP_CHECK(options.size >= 8 && options.size <= 4096, InputError, "--size ", options.size,
           ": expected an input side length in [8, 4096] px");
  HP_CHECK(options.num_classes >= 1, InputError, "num_classes ", options.num_classes, ": expected at least 1");
  HP_CHECK(options.warmup_runs >= 0, InputError, "warm-up runs ", options.warmup_runs, ": expected 0 or more");
  HP_CHECK(options.latency_runs >= 1, InputError, "--latency-runs ", options.latency_runs, ": expected at least 1");
  HP_CHECK(options.throughput_batch >= 1, InputError, "throughput batch ", options.throughput_batch,
           ": expected at least 1");
  HP_CHECK(options.throughput_runs >= 1, InputError, "throughput runs ", options.throughput_runs,
           ": expected at least 1");
  HP_CHECK(options.threads >= 0, InputError, "--threads ", options.threads, ": expected 0 or a positive count");
  if (!options.config) return;
  HP_CHECK(options.config->pretrained.empty(), ConfigError, "model.pretrained '", options.config->pretrained,
           "' holds weights of one architecture: a comparison trains every architecture the same way, "
           "so remove it");
  HP_CHECK(!options.out_dir.empty(), InputError, "--out: a folder for the cross-validations is required");
  for (const std::string& arch : options.archs) {
    const fs::path dir = fs::path(options.out_dir) / "cv" / arch;
    HP_CHECK(options.resume || !fs::exists(dir / "fold_1_1"), InputError, "--out '", options.out_dir,
             "' already holds a cross-validation of ", arch, " (", dir.string(),
             "): pass --resume to finish the comparison or choose another folder");
  }
}

void synchronize(const c10::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

double elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

// Latency at batch 1 and throughput at the throughput batch, in eval mode without autograd.
void measure_speed(ClassifierImpl& model, const ComparisonOptions& options, ComparisonRow& row) {
  model.to(options.device);
  model.eval();
  torch::InferenceMode inference;
  auto generator = at::detail::createCPUGenerator(1);
  auto input = [&](int64_t batch) {
    return torch::randn({batch, 3, options.size, options.size}, generator, torch::kFloat32).to(options.device);
  };
  auto timed = [&](const torch::Tensor& x) {
    synchronize(options.device);
    const auto start = std::chrono::steady_clock::now();
    model.forward(x);
    synchronize(options.device);
    return elapsed_ms(start);
  };

  const torch::Tensor one = input(1);
  for (int i = 0; i < options.warmup_runs; ++i) timed(one);
  std::vector<double> times;
  for (int i = 0; i < options.latency_runs; ++i) times.push_back(timed(one));
  row.latency_ms = median(times);
  row.latency_min_ms = *std::min_element(times.begin(), times.end());

  const torch::Tensor batch = input(options.throughput_batch);
  if (options.warmup_runs > 0) timed(batch);  // new shapes: oneDNN picks and caches kernels
  double total_ms = 0;
  for (int i = 0; i < options.throughput_runs; ++i) total_ms += timed(batch);
  row.throughput = 1000.0 * options.throughput_batch * options.throughput_runs / std::max(total_ms, 1e-9);
}

std::string number_or_empty(double value, int digits) {
  return std::isfinite(value) ? format_number(value, digits) : "";
}

// Fixed decimals for the table, so columns line up when read as text.
std::string fixed(double value, int decimals) {
  if (!std::isfinite(value)) return "-";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

}  // namespace

ComparisonRow::ComparisonRow() : accuracy_mean(kNaN), accuracy_std(kNaN), macro_f1_mean(kNaN), macro_f1_std(kNaN) {}

nlohmann::json ComparisonResult::to_json() const {
  nlohmann::json rows_json = nlohmann::json::array();
  for (const ComparisonRow& r : rows) {
    rows_json.push_back({{"arch", r.arch},
                         {"parameters", r.parameters},
                         {"gflops", r.gflops},
                         {"latency_ms", r.latency_ms},
                         {"latency_min_ms", r.latency_min_ms},
                         {"throughput_images_per_second", r.throughput},
                         {"accuracy_mean", number_or_null(r.accuracy_mean)},
                         {"accuracy_std", number_or_null(r.accuracy_std)},
                         {"macro_f1_mean", number_or_null(r.macro_f1_mean)},
                         {"macro_f1_std", number_or_null(r.macro_f1_std)},
                         {"folds", r.folds},
                         {"cv_seconds", r.cv_seconds}});
  }
  return {{"input_size", size},
          {"threads", threads},
          {"device", device},
          {"latency_runs", latency_runs},
          {"throughput_batch", throughput_batch},
          {"throughput_runs", throughput_runs},
          {"cv_scheme", cv_scheme.empty() ? nlohmann::json(nullptr) : nlohmann::json(cv_scheme)},
          {"gflops_convention", "GMACs of convolutions and matrix products per image (torchvision's GFLOPS)"},
          {"rows", rows_json}};
}

ComparisonResult compare_models(const ComparisonOptions& options) {
  check_options(options);
  auto log = logger("compare");
  if (options.threads > 0) set_threads(options.threads);

  ComparisonResult result;
  result.size = options.size;
  result.threads = torch::get_num_threads();
  result.device = options.device.str();
  result.latency_runs = options.latency_runs;
  result.throughput_batch = options.throughput_batch;
  result.throughput_runs = options.throughput_runs;
  if (options.config) result.cv_scheme = scheme_name(options.cv);

  // Counting first, for every architecture: it also proves each network takes the size
  // before anything long starts.
  for (const std::string& arch : options.archs) {
    ComparisonRow row;
    row.arch = arch;
    ClassifierPtr model = build(arch, options);
    row.parameters = count_parameters(*model);
    try {
      row.gflops = count_forward_flops(*model, options.size, options.size).gflops();
    } catch (const InputError& e) {
      throw InputError("--size " + std::to_string(options.size) + ": " + arch + " cannot take it: " + e.what());
    } catch (const c10::Error& e) {
      throw InputError("--size " + std::to_string(options.size) + ": " + arch + " cannot take " +
                       std::to_string(options.size) + "x" + std::to_string(options.size) +
                       " px inputs: " + e.what_without_backtrace());
    }
    log->info("{}: {:.2f} M parameters, {:.3f} GFLOPs at {}x{} px", arch, row.parameters / 1e6, row.gflops,
              options.size, options.size);
    result.rows.push_back(row);
  }

  for (ComparisonRow& row : result.rows) {
    ClassifierPtr model = build(row.arch, options);
    measure_speed(*model, options, row);
    log->info("{}: {:.2f} ms at batch 1 (median of {}), {:.1f} images/s at batch {}", row.arch, row.latency_ms,
              options.latency_runs, row.throughput, options.throughput_batch);
  }

  if (options.config) {
    for (ComparisonRow& row : result.rows) {
      CvOptions cv = options.cv;
      cv.out_dir = (fs::path(options.out_dir) / "cv" / row.arch).string();
      cv.device = options.device;
      cv.resume = options.resume;
      log->info("{}: {} cross-validation into {}", row.arch, result.cv_scheme, cv.out_dir);
      const auto start = std::chrono::steady_clock::now();
      const CvResult cv_result = run_cross_validation(config_for(*options.config, row.arch, options.size), cv);
      row.cv_seconds = elapsed_ms(start) / 1000.0;
      row.folds = static_cast<int>(cv_result.folds.size());
      row.accuracy_mean = cv_result.summary.at("accuracy").mean;
      row.accuracy_std = cv_result.summary.at("accuracy").std;
      row.macro_f1_mean = cv_result.summary.at("macro_f1").mean;
      row.macro_f1_std = cv_result.summary.at("macro_f1").std;
      log->info("{}: accuracy {:.4f} +- {:.4f}, macro-F1 {:.4f} +- {:.4f} over {} folds", row.arch, row.accuracy_mean,
                row.accuracy_std, row.macro_f1_mean, row.macro_f1_std, row.folds);
    }
  }

  if (!options.out_dir.empty()) write_comparison(result, options.out_dir);
  return result;
}

std::string comparison_markdown(const ComparisonResult& result) {
  const bool cv = result.has_cv();
  std::string md = "| arch | params (M) | GFLOPs | latency b1 (ms) | throughput b" +
                   std::to_string(result.throughput_batch) + " (img/s) |";
  if (cv) md += " accuracy | macro-F1 |";
  md += "\n|---|---:|---:|---:|---:|";
  if (cv) md += "---:|---:|";
  md += "\n";
  for (const ComparisonRow& r : result.rows) {
    md += "| " + r.arch + " | " + format_number(r.parameters / 1e6, 3) + " | " + format_number(r.gflops, 3) + " | " +
          fixed(r.latency_ms, 2) + " | " + fixed(r.throughput, 1) + " |";
    if (cv)
      md += " " + fixed(r.accuracy_mean, 4) + " +- " + fixed(r.accuracy_std, 3) + " | " + fixed(r.macro_f1_mean, 4) +
            " +- " + fixed(r.macro_f1_std, 3) + " |";
    md += "\n";
  }
  md += "\nInput " + std::to_string(result.size) + "x" + std::to_string(result.size) + " px on " + result.device +
        ", " + std::to_string(result.threads) + (result.threads == 1 ? " thread" : " threads") +
        ". GFLOPs: multiply-accumulates (x 1e9) of convolutions and matrix "
        "products per image, counted from the layers (torchvision's convention). Latency: median of " +
        std::to_string(result.latency_runs) + " batch-1 passes; throughput over " +
        std::to_string(result.throughput_runs) + " batches of " + std::to_string(result.throughput_batch) + ".";
  if (cv) md += " Accuracy and macro-F1: mean +- std over the " + result.cv_scheme + " cross-validation's test folds.";
  return md + "\n";
}

void write_comparison(const ComparisonResult& result, const std::string& dir) {
  HP_CHECK(!result.rows.empty(), InputError, "comparison: no rows to write");
  const fs::path out(dir);
  write_text_atomic(out / "comparison.md", comparison_markdown(result));
  write_text_atomic(out / "comparison.json", result.to_json().dump(2) + "\n");

  CsvWriter csv({"arch", "parameters", "gflops", "latency_ms", "latency_min_ms", "throughput_images_per_second",
                 "accuracy_mean", "accuracy_std", "macro_f1_mean", "macro_f1_std", "folds", "cv_seconds"});
  for (const ComparisonRow& r : result.rows) {
    csv.add_row({r.arch, std::to_string(r.parameters), format_number(r.gflops), format_number(r.latency_ms),
                 format_number(r.latency_min_ms), format_number(r.throughput), number_or_empty(r.accuracy_mean, 6),
                 number_or_empty(r.accuracy_std, 6), number_or_empty(r.macro_f1_mean, 6),
                 number_or_empty(r.macro_f1_std, 6), std::to_string(r.folds), format_number(r.cv_seconds)});
  }
  csv.write((out / "comparison.csv").string());

  std::vector<ScatterPoint> points;
  LinePlotOptions plot;
  const std::string setting = std::to_string(result.size) + " px, batch 1, " + std::to_string(result.threads) +
                              (result.threads == 1 ? " thread, " : " threads, ") + result.device;
  plot.x_label = "latency at batch 1 (ms)";
  if (result.has_cv()) {
    for (const ComparisonRow& r : result.rows) points.push_back({r.latency_ms, r.accuracy_mean, r.arch});
    plot.title = "Cross-validated accuracy against latency (" + setting + ")";
    plot.y_label = "accuracy (" + result.cv_scheme + " mean)";
    write_scatter_plot((out / "accuracy_vs_latency.png").string(), points, plot);
  } else {
    for (const ComparisonRow& r : result.rows) points.push_back({r.latency_ms, r.gflops, r.arch});
    plot.title = "GFLOPs against latency (" + setting + ")";
    plot.y_label = "GFLOPs per image";
    write_scatter_plot((out / "gflops_vs_latency.png").string(), points, plot);
  }
}

}  // namespace hemapath
