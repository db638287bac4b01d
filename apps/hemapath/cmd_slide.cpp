// hemapath slide tile|segment: whole-slide images cut into tiles for training, or segmented
// tile by tile into a pyramidal TIFF, an overlay, region and cell GeoJSON.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "hemapath/core/device.h"
#include "hemapath/core/error.h"
#include "hemapath/data/tile_export.h"
#include "hemapath/infer/slide_segmentation.h"
#include "hemapath/io/image_io.h"
#include "hemapath/io/slide_reader.h"
#include "hemapath/train/segmentation_config.h"

namespace hemapath::cli {
namespace {
namespace fs = std::filesystem;

/// Flags both slide subcommands share.
struct SlideFlags {
  std::string slide, out;
  std::optional<double> slide_mpp, mpp;
  std::optional<int> size;
  int overlap = 0;
  double min_tissue = 0.05;
  int thumbnail_size = 2048;
};

void add_slide_flags(CLI::App& sub, SlideFlags& f, int default_overlap) {
  f.overlap = default_overlap;
  sub.add_option("slide", f.slide, "Whole-slide image (svs, tif, ndpi, mrxs, scn, vms, bif) or a plain image")
      ->required();
  sub.add_option("--mpp", f.mpp, "Working resolution, um/px (default: the model's, else the slide's level 0)");
  sub.add_option("--slide-mpp", f.slide_mpp, "The slide's own um/px, for slides that do not say it")
      ->check(CLI::PositiveNumber);
  sub.add_option("--size", f.size, "Tile side, px at the working resolution")->check(CLI::PositiveNumber);
  sub.add_option("--overlap", f.overlap, "Px shared by neighbouring tiles (even)")->check(CLI::NonNegativeNumber);
  sub.add_option("--min-tissue", f.min_tissue, "Skip tiles with less tissue than this fraction (0 keeps all)")
      ->check(CLI::Range(0.0, 1.0));
  sub.add_option("--thumbnail-size", f.thumbnail_size, "Longer side of thumbnails and the tissue mask, px")
      ->check(CLI::Range(16, 16384));
  sub.add_option("--out", f.out, "Output folder (default: out/slide/<slide stem>)");
}

std::string default_out(const SlideFlags& f, const std::string& what) {
  return f.out.empty() ? (fs::path("out") / "slide" / what / fs::path(f.slide).stem()).string() : f.out;
}

struct TileCommand {
  SlideFlags slide;
  std::string format = "png", annotation;
  std::vector<std::string> classes;
  std::optional<double> context_mpp;
  int context_size = 0;
};

void run_tile(const TileCommand& cmd, const GlobalOptions& global) {
  apply_global(global);
  const SlideReader slide(cmd.slide.slide, SlideOpenOptions{cmd.slide.slide_mpp});
  TileExportOptions o;
  o.grid.mpp = cmd.slide.mpp.value_or(slide.require_mpp());
  o.grid.tile_size = cmd.slide.size.value_or(512);
  o.grid.overlap = cmd.slide.overlap;
  o.grid.min_tissue = cmd.slide.min_tissue;
  o.thumbnail_size = cmd.slide.thumbnail_size;
  o.format = cmd.format;
  o.annotation = cmd.annotation;
  o.classes = cmd.classes;
  o.context_mpp = cmd.context_mpp;
  o.context_size = cmd.context_size;
  const std::string out = default_out(cmd.slide, "tiles");
  const TileExportSummary s = export_tiles(slide, o, out);
  std::printf("%s: %d of %d tiles of %d px at %.4g um/px written to %s\n", cmd.slide.slide.c_str(), s.tiles,
              s.grid_tiles, o.grid.tile_size, o.grid.mpp, out.c_str());
  if (!s.classes.empty()) {
    std::printf("mask classes:");
    for (size_t i = 0; i < s.classes.size(); ++i) std::printf(" %zu=%s", i + 1, s.classes[i].c_str());
    std::printf("\n");
  }
}

struct SegmentCommand {
  SlideFlags slide;
  std::string model, stain, stain_reference, stain_method = "macenko", truth;
  std::vector<std::string> truth_classes;
  ComputeFlags compute;
  CellFlags cell_flags;
  bool resume = false, cells = false, no_cells = false;
  int region_map_size = 4096;
};

void run_segment(const SegmentCommand& cmd, const GlobalOptions& global) {
  apply_global(global);
  set_threads(cmd.compute.threads);
  HP_CHECK(!(cmd.cells && cmd.no_cells), InputError, "--cells and --no-cells cannot be used together");
  HP_CHECK(cmd.stain.empty() || cmd.stain_reference.empty(), InputError,
           "--stain and --stain-reference cannot be used together");
  const SlideReader slide(cmd.slide.slide, SlideOpenOptions{cmd.slide.slide_mpp});
  const std::unique_ptr<TileModel> model = TileModel::load(cmd.model, cmd.compute.inference());
  SlideSegmentOptions o;
  o.mpp = cmd.slide.mpp;
  o.tile_size = cmd.slide.size;
  o.overlap = cmd.slide.overlap;
  o.min_tissue = cmd.slide.min_tissue;
  o.thumbnail_size = cmd.slide.thumbnail_size;
  o.region_map_size = cmd.region_map_size;
  o.batch_size = cmd.compute.batch_size;
  o.workers = cmd.compute.workers;
  o.resume = cmd.resume;
  o.truth = cmd.truth;
  o.truth_classes = cmd.truth_classes;
  if (cmd.cells) o.cells = true;
  if (cmd.no_cells) o.cells = false;
  o.instances = cmd.cell_flags.applied_to(instance_options_from_json(model->info().instances));
  if (!cmd.stain.empty()) o.stain = StainNormalizer::load(cmd.stain);
  if (!cmd.stain_reference.empty())
    o.stain = StainNormalizer::fit(cmd.stain_method, read_image_rgb(cmd.stain_reference));
  const std::string out = default_out(cmd.slide, "segment");
  const nlohmann::json s = segment_slide(slide, *model, o, out).json;
  std::printf("%s: %s tiles run (%s resumed) of %s with tissue, %.2f tiles/s, peak memory %.0f MiB\n",
              cmd.slide.slide.c_str(), s["tiles_run"].dump().c_str(), s["tiles_resumed"].dump().c_str(),
              s["tiles_with_tissue"].dump().c_str(), s["tiles_per_second"].get<double>(),
              s["peak_rss_mib"].get<double>());
  std::printf("output %lldx%lld px at %.4g um/px in %s (classes.tif, overlay.png, regions.geojson%s, summary.json)\n",
              s["output_size_px"][0].get<long long>(), s["output_size_px"][1].get<long long>(),
              s["mpp"].get<double>(), out.c_str(), s.contains("cells") ? ", cells.geojson, cells.csv" : "");
  if (s.contains("cells")) std::printf("cells: %s\n", s["cells"].dump().c_str());
  if (s.contains("evaluation"))
    std::printf("against %s: foreground IoU %.4f, pixel accuracy %.4f, IoU per class %s\n", cmd.truth.c_str(),
                s["evaluation"]["foreground_iou"].get<double>(), s["evaluation"]["pixel_accuracy"].get<double>(),
                s["evaluation"]["iou"].dump().c_str());
}

}  // namespace

void setup_slide(CLI::App& app, const GlobalOptions& global) {
  CLI::App* slide = app.add_subcommand("slide", "Whole-slide images: tiles for training, tiled segmentation");
  slide->require_subcommand(1);

  auto tile = std::make_shared<TileCommand>();
  CLI::App* t = slide->add_subcommand("tile", "Cut a slide into tiles (PNG/JPEG + CSV), with mask tiles and context patches");
  add_slide_flags(*t, tile->slide, 0);
  t->add_option("--format", tile->format, "Image tile format: png or jpg")->check(CLI::IsMember({"png", "jpg"}));
  t->add_option("--annotation", tile->annotation,
                "Label image aligned to the slide (8-bit class indices) or GeoJSON polygons in level-0 px");
  t->add_option("--classes", tile->classes, "Mask class names, index 1 upwards (default: the annotation's)")
      ->delimiter(',');
  t->add_option("--context-mpp", tile->context_mpp, "Also write a context patch at this um/px around each tile's centre")
      ->check(CLI::PositiveNumber);
  t->add_option("--context-size", tile->context_size, "Context patch side, px (default: the tile size)")
      ->check(CLI::NonNegativeNumber);
  t->callback([tile, &global] { run_tile(*tile, global); });

  auto seg = std::make_shared<SegmentCommand>();
  seg->compute.batch_size = 0;  // chosen from the tile size (slide_segmentation.h)
  CLI::App* s = slide->add_subcommand("segment", "Segment a slide tile by tile: pyramidal TIFF, overlay, GeoJSON");
  add_slide_flags(*s, seg->slide, 64);
  s->add_option("--model", seg->model, "Segmentation model (.hpm) or TorchScript module (.pt with a .json sidecar)")
      ->required();
  add_compute_flags(*s, seg->compute, true);
  add_inference_flags(*s, seg->compute);
  s->add_flag("--resume", seg->resume, "Continue an interrupted run in --out, skipping finished tiles");
  s->add_flag("--cells", seg->cells, "Cut cells out of each tile (default for cell models)");
  s->add_flag("--no-cells", seg->no_cells, "Do not cut cells out");
  add_cell_flags(*s, seg->cell_flags);
  s->add_option("--stain", seg->stain, "Stain normaliser JSON (from a reference) applied to every tile");
  s->add_option("--stain-reference", seg->stain_reference, "Reference image to fit a stain normaliser to");
  s->add_option("--stain-method", seg->stain_method, "With --stain-reference: macenko or reinhard")
      ->check(CLI::IsMember({"macenko", "reinhard"}));
  s->add_option("--truth", seg->truth,
                "Score the result against this annotation: a label image aligned to the slide or GeoJSON polygons");
  s->add_option("--truth-classes", seg->truth_classes, "The annotation's class names, index 1 upwards")
      ->delimiter(',');
  s->add_option("--region-map-size", seg->region_map_size, "Longer side of the map region polygons are traced on, px")
      ->check(CLI::Range(16, 32768));
  s->callback([seg, &global] { run_segment(*seg, global); });
}

}  // namespace hemapath::cli
