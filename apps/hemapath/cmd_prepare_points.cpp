// hemapath prepare-points: training data for the red-cell segmenter and classifier from point
// annotations (one `x y class` line per cell): split, instance masks and centred crops.
#include <iostream>
#include <map>
#include <memory>

#include "commands.h"
#include "hemapath/data/point_dataset.h"

namespace hemapath::cli {
namespace {

void print_counts(const char* part, size_t images, size_t points, const std::map<std::string, size_t>& crops) {
  size_t total = 0;
  for (const auto& [name, count] : crops) total += count;
  std::cout << part << ": " << images << " images, " << points << " cells, " << total << " crops (";
  const char* sep = "";
  for (const auto& [name, count] : crops) std::cout << sep << name << " " << count, sep = ", ";
  std::cout << ")\n";
}

void run_prepare_points(const PointDatasetOptions& options, const GlobalOptions& global) {
  apply_global(global);
  const PointDatasetSummary summary = build_point_dataset(options);
  print_counts("train", summary.train_images, summary.train_points, summary.train_crops);
  print_counts("test", summary.test_images, summary.test_points, summary.test_crops);
  if (summary.empty_cells)
    std::cout << summary.empty_cells << " points got no mask pixel (seed overwritten by a closer neighbour)\n";
  std::cout << "wrote " << options.out << "\n";
}

}  // namespace

void setup_prepare_points(CLI::App& app, const GlobalOptions& global) {
  auto options = std::make_shared<PointDatasetOptions>();
  CLI::App* sub = app.add_subcommand(
      "prepare-points",
      "Build red-cell training data from point annotations: a seeded image split, instance masks (colour "
      "threshold + watershed seeded at the points) and crops centred on each point");
  sub->add_option("--images", options->images, "Folder of smear images")->required();
  sub->add_option("--points", options->points, "Folder of <image stem>.txt files, one 'x y class' line per cell")
      ->required();
  sub->add_option("--classes", options->classes_file, "Class names, one per line, in class-index order")->required();
  sub->add_option("--out", options->out, "Output folder (must not exist)")->required();
  sub->add_option("--test-fraction", options->test_fraction,
                  "Share of images held out from all training (0: all for training, 1: all held out)");
  sub->add_option("--seed", options->seed, "Seed of the image split");
  sub->add_option("--crop", options->crop, "Side of the crops (px, at the image's resolution)");
  sub->add_option("--exclude", options->exclude, "Classes that get no crop (comma-separated)")->delimiter(',');
  sub->add_option("--max-radius", options->masks.max_radius,
                  "A cell keeps only pixels within this distance of its point (px); 0 = no limit")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--max-hole-area", options->masks.max_hole_area,
                  "Fill holes of the colour foreground up to this area (px): pale cell centres")
      ->check(CLI::NonNegativeNumber);
  sub->callback([options, &global] { run_prepare_points(*options, global); });
}

}  // namespace hemapath::cli
