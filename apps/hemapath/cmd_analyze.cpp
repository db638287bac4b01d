// hemapath analyze: the blood-smear job. Red and white cells are segmented and typed on each
// smear; per image an overlay, a cell table, GeoJSON and a JSON summary, and a table over the
// batch. Optional annotations score the run (red-cell points, white-cell labels and masks).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "commands.h"
#include "hemapath/core/atomic_file.h"
#include "hemapath/core/device.h"
#include "hemapath/core/error.h"
#include "hemapath/core/log.h"
#include "hemapath/core/overlapped_pipeline.h"
#include "hemapath/core/shard.h"
#include "hemapath/infer/smear_report.h"
#include "hemapath/io/batch_inputs.h"
#include "hemapath/io/csv.h"
#include "hemapath/io/image_io.h"
#include "hemapath/train/report_writer.h"
#include "hemapath/train/smear_evaluation.h"

namespace hemapath::cli {
namespace {
namespace fs = std::filesystem;

struct AnalyzeCommand {
  std::vector<std::string> inputs;
  std::string out = "runs/analyze";
  SmearModelPaths models{bundled_model("rbc_unet.hpm"), bundled_model("rbc_efficientnet_b0.hpm"),
                         bundled_model("wbc_unet.hpm"), bundled_model("wbc_separable_cnn.hpm")};
  std::string points, point_classes, wbc_labels, wbc_masks;
  double white_overlap = 0.3;
  double red_scale = 1;
  int red_symmetries = SmearOptions{}.red_symmetries;
  ComputeFlags compute;
  std::string list, shard;
};

// An input to analyse, or why it cannot be.
struct Input {
  std::string path, problem;
};

std::vector<Input> gather_inputs(const std::vector<std::string>& inputs) {
  std::vector<Input> out;
  for (const auto& input : inputs) {
    if (fs::is_directory(input)) {
      std::vector<std::string> images;
      for (const auto& entry : fs::directory_iterator(input))
        if (entry.is_regular_file() && has_image_extension(entry.path().string()))
          images.push_back(entry.path().string());
        else if (entry.is_regular_file())
          logger("analyze")->info("skipping '{}': not an image file", entry.path().string());
      std::sort(images.begin(), images.end());
      if (images.empty()) out.push_back({input, "folder holds no images (.png .jpg .jpeg .tif .tiff .bmp)"});
      for (auto& image : images) out.push_back({image, ""});
    } else if (!fs::exists(input)) {
      out.push_back({input, "does not exist"});
    } else if (!has_image_extension(input)) {
      out.push_back({input, "is not an image file: expected .png .jpg .jpeg .tif .tiff .bmp"});
    } else {
      out.push_back({input, ""});
    }
  }
  std::map<std::string, std::string> by_stem;
  for (const auto& input : out) {
    if (!input.problem.empty()) continue;
    const std::string stem = fs::path(input.path).stem().string();
    auto [it, added] = by_stem.emplace(stem, input.path);
    HP_CHECK(added, InputError, "inputs '", it->second, "' and '", input.path,
             "' would share the output folder '", stem, "': analyse them in separate runs");
  }
  return out;
}

// image file stem -> label, from an `image,label` CSV.
std::map<std::string, std::string> read_stem_labels(const std::string& path) {
  const std::vector<CsvRow> rows = read_csv(path);
  HP_CHECK(!rows.empty() && rows[0].size() >= 2 && rows[0][0] == "image" && rows[0][1] == "label", InputError,
           "--wbc-labels '", path, "': expected a CSV with header 'image,label'");
  std::map<std::string, std::string> labels;
  for (size_t r = 1; r < rows.size(); ++r)
    if (rows[r].size() >= 2 && !rows[r][1].empty()) labels[fs::path(rows[r][0]).stem().string()] = rows[r][1];
  return labels;
}

// What the annotations given on the command line say, and the scores kept over the batch.
struct Scoring {
  std::optional<RedCellEvaluation> red;
  std::optional<WhiteCellEvaluation> white;
  std::vector<std::string> point_classes;
  std::vector<std::string> white_classes;
  std::map<std::string, std::string> white_labels;
  std::set<std::string> unscored;  // images without an annotation file

  Scoring(const AnalyzeCommand& cmd, const SmearClasses& classes) : white_classes(classes.white) {
    if (!cmd.points.empty()) {
      HP_CHECK(fs::is_directory(cmd.points), InputError, "--points '", cmd.points, "' is not a folder");
      std::string class_file = cmd.point_classes;
      if (class_file.empty()) {
        fs::path folder = fs::path(cmd.points).lexically_normal();
        if (folder.filename().empty()) folder = folder.parent_path();  // "labels/" -> "labels"
        const fs::path inside = folder / "classes.txt";
        class_file = fs::exists(inside) ? inside.string() : (folder.parent_path() / "classes.txt").string();
      }
      point_classes = read_class_list(class_file);
      red.emplace(point_classes, classes.red);
    }
    HP_CHECK(cmd.wbc_masks.empty() || fs::is_directory(cmd.wbc_masks), InputError, "--wbc-masks '", cmd.wbc_masks,
             "' is not a folder");
    if (!cmd.wbc_labels.empty()) white_labels = read_stem_labels(cmd.wbc_labels);
    if (!cmd.wbc_labels.empty() || !cmd.wbc_masks.empty()) white.emplace(classes.white);
  }

  void add(const AnalyzeCommand& cmd, const std::string& image, const SmearResult& result) {
    const std::string stem = fs::path(image).stem().string();
    if (red) {
      const fs::path file = fs::path(cmd.points) / (stem + ".txt");
      if (fs::exists(file))
        red->add(result, clamp_points(read_point_labels(file.string(), static_cast<int>(point_classes.size())),
                                      result.labels.size()));
      else
        unscored.insert(image);
    }
    if (white) {
      auto label = white_labels.find(stem);
      std::string type = label == white_labels.end() ? "" : label->second;
      if (!type.empty() && std::find(white_classes.begin(), white_classes.end(), type) == white_classes.end())
        type.clear();  // a type the model was not trained on (e.g. BASOPHIL) is not scored
      cv::Mat mask;
      if (!cmd.wbc_masks.empty()) {
        const fs::path file = fs::path(cmd.wbc_masks) / (stem + ".png");
        if (fs::exists(file)) mask = read_mask(file.string());
      }
      white->add(result, type, mask);
    }
  }
};

void print_result(const std::string& image, const SmearResult& result, const SmearClasses& classes) {
  std::printf("%s: %zu red cells, %zu white cells", image.c_str(), result.count(CellKind::red),
              result.count(CellKind::white));
  for (const auto& cell : result.cells)
    if (cell.kind == CellKind::white)
      std::printf(" [%s %.2f]", classes.white[cell.class_index].c_str(), cell.probabilities[cell.class_index]);
  std::printf(" in %.2f s\n", result.seconds.total());
}

void write_evaluation(const Scoring& scoring, const std::string& out) {
  nlohmann::json evaluation = nlohmann::json::object();
  if (scoring.red) {
    evaluation["red_cells"] = scoring.red->to_json();
    evaluation["red_cells"]["images_without_point_file"] = scoring.unscored.size();
    auto print_detection = [](const char* what, const DetectionScore& d) {
      std::printf(
          "%s against %lld points: %lld cells, %lld matched; precision %.4f recall %.4f F1 %.4f; "
          "count error %.2f%% (mean absolute, per image)\n",
          what, static_cast<long long>(d.points), static_cast<long long>(d.cells), static_cast<long long>(d.matched),
          d.precision(), d.recall(), d.f1(), 100 * d.mean_count_error());
    };
    print_detection("red-cell detection", scoring.red->detection());
    print_detection("red-cell detection away from the image border", scoring.red->inner_detection());
    if (auto report = scoring.red->classes()) {
      write_classification_report((fs::path(out) / "evaluation" / "red_classes").string(), *report);
      std::printf("red-cell classes of the %lld matched cells: accuracy %.4f macro-F1 %.4f\n",
                  static_cast<long long>(report->confusion.total()), report->accuracy, report->macro_f1);
    }
  }
  if (scoring.white) {
    evaluation["white_cells"] = scoring.white->to_json();
    const nlohmann::json& w = evaluation["white_cells"];
    if (w.contains("detection"))
      std::printf("white-cell detection: exactly one cell matching the mask (IoU >= 0.5) in %lld of %lld images\n",
                  w["detection"]["exactly_one_matching_mask_iou50"].get<long long>(),
                  w["detection"]["images"].get<long long>());
    if (auto report = scoring.white->types()) {
      write_classification_report((fs::path(out) / "evaluation" / "white_types").string(), *report);
      std::printf("white-cell types of %lld images with a cell found: accuracy %.4f macro-F1 %.4f (%lld without)\n",
                  static_cast<long long>(report->confusion.total()), report->accuracy, report->macro_f1,
                  w["types"]["images_without_white_cell"].get<long long>());
    }
  }
  if (!evaluation.empty()) write_text_atomic(fs::path(out) / "evaluation.json", evaluation.dump(2) + "\n");
}

// A smear as read (or why it could not be), and as analysed.
struct ReadSmear {
  cv::Mat rgb;
  std::string problem;
};
struct AnalysedSmear {
  cv::Mat rgb;
  SmearResult result;
  std::string problem;
};

void run_analyze(const AnalyzeCommand& cmd, const GlobalOptions& global) {
  apply_global(global);
  set_threads(cmd.compute.threads);
  HP_CHECK(cmd.white_overlap >= 0 && cmd.white_overlap <= 1, ConfigError, "--white-overlap must be in [0, 1]");
  HP_CHECK(cmd.red_scale >= 0.05 && cmd.red_scale <= 20, ConfigError, "--red-scale must be in [0.05, 20], got ",
           cmd.red_scale);
  const std::vector<std::string> given = with_listed(cmd.inputs, cmd.list);
  HP_CHECK(!given.empty(), InputError, "no inputs: give smear images or folders, or --list FILE");
  const std::vector<Input> inputs = gather_inputs(given);
  // A sharded run takes its share of the list and skips what an earlier run finished.
  const bool sharded = !cmd.shard.empty();
  const Shard shard = sharded ? parse_shard(cmd.shard, "--shard") : Shard{};
  HP_CHECK(!sharded || (cmd.points.empty() && cmd.wbc_labels.empty() && cmd.wbc_masks.empty()), ConfigError,
           "--points, --wbc-labels and --wbc-masks score one whole run: use them without --shard");
  const BatchLedger ledger(cmd.out, "summary.json");
  std::vector<std::string> paths;
  for (const Input& input : inputs) paths.push_back(input.path);
  const ShardWork work = ledger.shard_work(paths, shard, /*skip_finished=*/sharded);
  const std::vector<size_t>& todo = work.todo;
  SmearOptions options;
  options.inference = cmd.compute.inference();
  options.batch_size = cmd.compute.batch_size;
  options.white_overlap = cmd.white_overlap;
  options.red_scale = cmd.red_scale;
  options.red_symmetries = cmd.red_symmetries;
  const SmearAnalyzer analyzer(cmd.models, options);
  const SmearClasses classes{analyzer.classes(CellKind::red), analyzer.classes(CellKind::white)};
  Scoring scoring(cmd, classes);

  SmearBatchTable table(classes);
  std::vector<std::string> failures;
  StageSeconds total;
  size_t analysed = 0;
  // Decoding the next smear and writing the last one's files overlap with the networks.
  run_overlapped(
      todo.size(), 2,
      [&](size_t i) {
        const Input& input = inputs[todo[i]];
        if (!input.problem.empty()) return ReadSmear{{}, "'" + input.path + "' " + input.problem};
        try {
          return ReadSmear{read_image_rgb(input.path), ""};
        } catch (const InputError& e) {
          return ReadSmear{{}, naming(input.path, e.what())};
        }
      },
      [&](size_t i, ReadSmear smear) {
        if (!smear.problem.empty()) return AnalysedSmear{{}, {}, smear.problem};
        try {
          return AnalysedSmear{smear.rgb, analyzer.analyze(smear.rgb), ""};
        } catch (const InputError& e) {
          return AnalysedSmear{{}, {}, naming(inputs[todo[i]].path, e.what())};
        }
      },
      [&](size_t i, AnalysedSmear smear) {
        const std::string& path = inputs[todo[i]].path;
        if (smear.problem.empty()) {
          try {
            const std::string name = fs::path(path).filename().string();
            if (sharded) ledger.clear_failure(path);
            write_smear_files(ledger.folder(path).string(), smear.rgb, smear.result, classes, name);
            if (!sharded) table.add(path, smear.result);  // a sharded run merges from the files
            scoring.add(cmd, path, smear.result);
            print_result(name, smear.result, classes);
            total += smear.result.seconds;
            ++analysed;
            return;
          } catch (const InputError& e) {
            smear.problem = naming(path, e.what());
          }
        }
        logger("analyze")->error("{}", smear.problem);
        if (sharded)
          ledger.record_failure(path, smear.problem);
        else
          table.add_failure(path, smear.problem);
        failures.push_back(smear.problem);
      });
  const std::string summary_csv = (fs::path(cmd.out) / "summary.csv").string();
  if (sharded) {
    // The merged table of the whole list, from what every shard's folders hold now.
    const auto lock = ledger.lock();
    SmearBatchTable merged(classes);
    StatusCounts counts;
    for (const std::string& path : paths) {
      const InputStatus status = ledger.status(path);
      counts.count(status.state);
      if (status.state == InputState::finished)
        merged.add_summary(path, ledger.result_json(path));
      else if (status.state == InputState::failed)
        merged.add_failure(path, status.error);
      else
        merged.add_pending(path);
    }
    merged.write(summary_csv);
    std::printf("shard %s: %zu of %zu inputs, %zu analysed now, %zu finished before, %zu failed\n",
                shard.to_string().c_str(), work.taken(), inputs.size(), analysed, work.finished_before,
                failures.size());
    std::printf("merged summary of all %zu inputs: %zu finished, %zu failed, %zu pending\n", inputs.size(),
                counts.finished, counts.failed, counts.pending);
  } else {
    table.write(summary_csv);
    write_evaluation(scoring, cmd.out);
  }
  if (analysed)
    std::printf("%zu smears analysed, %.3f s each (red cells: segmentation %.3f, classification %.3f; white cells: "
                "segmentation %.3f, classification %.3f)\n",
                analysed, total.total() / analysed, total.red_segmentation / analysed,
                total.red_classification / analysed, total.white_segmentation / analysed,
                total.white_classification / analysed);
  std::printf("results: %s\n", cmd.out.c_str());
  HP_CHECK(failures.empty(), InputError, failures.size(), " of ", todo.size(),
           " inputs could not be analysed (listed in ", summary_csv, "); the first: ", failures.front());
}

}  // namespace

void setup_analyze(CLI::App& app, const GlobalOptions& global) {
  auto cmd = std::make_shared<AnalyzeCommand>();
  CLI::App* sub = app.add_subcommand(
      "analyze",
      "Blood smears: segment and type every red and white cell; per image an overlay, a cell table (CSV), GeoJSON "
      "and a JSON summary, and a summary CSV over the batch");
  sub->add_option("inputs", cmd->inputs, "Smear images or folders of them");
  sub->add_option("--list", cmd->list,
                  "Also analyse the images this text file lists, one path per line (relative paths from the list's "
                  "folder)");
  sub->add_option("--shard", cmd->shard,
                  "Analyse share i/n of the inputs (0 <= i < n; 'env': RANK/WORLD_SIZE), skipping those already "
                  "finished in --out, and rebuild <out>/summary.csv over all of them (pending rows for the rest)");
  sub->add_option("--out", cmd->out, "Output folder: <out>/<image stem>/ per image, <out>/summary.csv");
  sub->add_option("--model-rbc-seg", cmd->models.red_segmenter, "Red-cell segmentation model");
  sub->add_option("--model-rbc-cls", cmd->models.red_classifier, "Red-cell morphology classifier");
  sub->add_option("--model-wbc-seg", cmd->models.white_segmenter, "White-cell segmentation model");
  sub->add_option("--model-wbc-cls", cmd->models.white_classifier, "White-cell type classifier");
  sub->add_option("--white-overlap", cmd->white_overlap,
                  "A red-cell candidate with more than this share of its area inside a white cell is dropped");
  sub->add_option("--red-scale", cmd->red_scale,
                  "Resize smears by this factor for the red-cell stages so red cells are about 40 px across, as in "
                  "the smears the bundled red-cell models learnt (for smears at another magnification)");
  sub->add_option("--points", cmd->points,
                  "Score red cells against point annotations: folder of <image stem>.txt, one 'x y class' per cell");
  sub->add_option("--point-classes", cmd->point_classes,
                  "Class names of the point files' class indices (default: classes.txt in the --points folder, else beside it)");
  sub->add_option("--wbc-labels", cmd->wbc_labels, "Score white-cell types against an image,label CSV");
  sub->add_option("--wbc-masks", cmd->wbc_masks,
                  "Score white-cell detection against <image stem>.png masks (non-zero = the white cell)");
  add_symmetry_flag(*sub, cmd->red_symmetries, "--red-symmetries");
  add_compute_flags(*sub, cmd->compute, true);
  add_inference_flags(*sub, cmd->compute);
  sub->callback([cmd, &global] { run_analyze(*cmd, global); });
}

}  // namespace hemapath::cli
