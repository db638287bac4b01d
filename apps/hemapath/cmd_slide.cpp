// hemapath slide tile|segment: whole-slide images cut into tiles for training, or segmented
// tile by tile into a pyramidal TIFF, an overlay, region and cell GeoJSON.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>

#include "commands.h"
#include "hemapath/core/device.h"
#include "hemapath/core/error.h"
#include "hemapath/core/log.h"
#include "hemapath/core/shard.h"
#include "hemapath/data/tile_export.h"
#include "hemapath/infer/slide_batch.h"
#include "hemapath/infer/slide_segmentation.h"
#include "hemapath/io/batch_inputs.h"
#include "hemapath/io/image_io.h"
#include "hemapath/io/slide_reader.h"
#include "hemapath/train/segmentation_config.h"

namespace hemapath::cli {
namespace {
namespace fs = std::filesystem;

/// Flags both slide subcommands share.
struct SlideFlags {
  std::string out;
  std::optional<double> slide_mpp, mpp;
  std::optional<int> size;
  int overlap = 0;
  double min_tissue = 0.05;
  int thumbnail_size = 2048;
};

void add_slide_flags(CLI::App& sub, SlideFlags& f, int default_overlap) {
  f.overlap = default_overlap;
  sub.add_option("--mpp", f.mpp, "Working resolution, um/px (default: the model's, else the slide's level 0)");
  sub.add_option("--slide-mpp", f.slide_mpp, "The slide's own um/px, for slides that do not say it")
      ->check(CLI::PositiveNumber);
  sub.add_option("--size", f.size, "Tile side, px at the working resolution")->check(CLI::PositiveNumber);
  sub.add_option("--overlap", f.overlap, "Px shared by neighbouring tiles (even)")->check(CLI::NonNegativeNumber);
  sub.add_option("--min-tissue", f.min_tissue, "Skip tiles with less tissue than this fraction (0 keeps all)")
      ->check(CLI::Range(0.0, 1.0));
  sub.add_option("--thumbnail-size", f.thumbnail_size, "Longer side of thumbnails and the tissue mask, px")
      ->check(CLI::Range(16, 16384));
  sub.add_option("--out", f.out,
                 "Output folder (default: out/slide/<tiles|segment>/<slide stem>; for a batch of slides, the folder "
                 "holding one folder per slide)");
}

const char* kSlideHelp = "Whole-slide image (svs, tif, ndpi, mrxs, scn, vms, bif) or a plain image";

// --out, else out/slide/<what>/<slide stem> for one slide, or out/slide/<what> for a batch.
std::string default_out(const SlideFlags& f, const std::string& what, const std::string& slide = "") {
  if (!f.out.empty()) return f.out;
  const fs::path folder = fs::path("out") / "slide" / what;
  return (slide.empty() ? folder : folder / fs::path(slide).stem()).string();
}

struct TileCommand {
  std::string path;
  SlideFlags slide;
  std::string format = "png", annotation;
  std::vector<std::string> classes;
  std::optional<double> context_mpp;
  int context_size = 0;
};

void run_tile(const TileCommand& cmd, const GlobalOptions& global) {
  apply_global(global);
  const SlideReader slide(cmd.path, SlideOpenOptions{cmd.slide.slide_mpp});
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
  const std::string out = default_out(cmd.slide, "tiles", cmd.path);
  const TileExportSummary s = export_tiles(slide, o, out);
  std::printf("%s: %d of %d tiles of %d px at %.4g um/px written to %s\n", cmd.path.c_str(), s.tiles, s.grid_tiles,
              o.grid.tile_size, o.grid.mpp, out.c_str());
  if (!s.classes.empty()) {
    std::printf("mask classes:");
    for (size_t i = 0; i < s.classes.size(); ++i) std::printf(" %zu=%s", i + 1, s.classes[i].c_str());
    std::printf("\n");
  }
}

struct SegmentCommand {
  std::vector<std::string> paths;
  std::string list, shard;
  SlideFlags slide;
  std::string model, stain, stain_reference, stain_method = "macenko", truth;
  std::vector<std::string> truth_classes;
  ComputeFlags compute;
  CellFlags cell_flags;
  bool resume = false, cells = false, no_cells = false;
  int region_map_size = 4096;
};

// The options every slide of a run shares.
SlideSegmentOptions segment_options(const SegmentCommand& cmd, const TileModel& model) {
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
  o.instances = cmd.cell_flags.applied_to(instance_options_from_json(model.info().instances));
  if (!cmd.stain.empty()) o.stain = StainNormalizer::load(cmd.stain);
  if (!cmd.stain_reference.empty())
    o.stain = StainNormalizer::fit(cmd.stain_method, read_image_rgb(cmd.stain_reference));
  return o;
}

void print_slide(const std::string& path, const std::string& out, const nlohmann::json& s, const std::string& truth) {
  std::printf("%s: %s tiles run (%s resumed) of %s with tissue, %.2f tiles/s, peak memory %.0f MiB\n", path.c_str(),
              s["tiles_run"].dump().c_str(), s["tiles_resumed"].dump().c_str(), s["tiles_with_tissue"].dump().c_str(),
              s["tiles_per_second"].get<double>(), s["peak_rss_mib"].get<double>());
  std::printf("output %lldx%lld px at %.4g um/px in %s (classes.tif, overlay.png, regions.geojson%s, summary.json)\n",
              s["output_size_px"][0].get<long long>(), s["output_size_px"][1].get<long long>(),
              s["mpp"].get<double>(), out.c_str(), s.contains("cells") ? ", cells.geojson, cells.csv" : "");
  if (s.contains("cells")) std::printf("cells: %s\n", s["cells"].dump().c_str());
  if (s.contains("evaluation"))
    std::printf("against %s: foreground IoU %.4f, pixel accuracy %.4f, IoU per class %s\n", truth.c_str(),
                s["evaluation"]["foreground_iou"].get<double>(), s["evaluation"]["pixel_accuracy"].get<double>(),
                s["evaluation"]["iou"].dump().c_str());
}

// Several slides (or a --shard of a list): each into <out>/<stem>/, finished ones skipped and
// interrupted ones resumed, then the merged summary of the whole list.
void run_segment_batch(const SegmentCommand& cmd, const std::vector<std::string>& slides, TileModel& model,
                       SlideSegmentOptions options) {
  const Shard shard = cmd.shard.empty() ? Shard{} : parse_shard(cmd.shard, "--shard");
  const std::string out = default_out(cmd.slide, "segment");
  std::set<std::string> stems;
  for (const auto& slide : slides)
    HP_CHECK(stems.insert(fs::path(slide).stem().string()).second, InputError, "two slides named '",
             fs::path(slide).stem().string(), "' would share a folder in ", out, ": segment them in separate runs");
  const BatchLedger ledger(out, "summary.json");
  const ShardWork work = ledger.shard_work(slides, shard, /*skip_finished=*/true);
  size_t segmented = 0;
  std::vector<std::string> failures;
  for (size_t k : work.todo) {
    const std::string& path = slides[k];
    const fs::path folder = ledger.folder(path);
    try {
      ledger.clear_failure(path);
      const SlideReader slide(path, SlideOpenOptions{cmd.slide.slide_mpp});
      // A worker stopped mid-slide left partial/: carry on from its finished tiles.
      options.resume = fs::is_regular_file(folder / "partial" / "run.json");
      print_slide(path, folder.string(), segment_slide(slide, model, options, folder.string()).json, "");
      ++segmented;
    } catch (const InputError& e) {
      const std::string message = naming(path, e.what());
      logger("slide")->error("{}", message);
      ledger.record_failure(path, message);
      failures.push_back(message);
    }
  }
  const StatusCounts counts = write_slide_batch_summary(ledger, slides, out);
  std::printf("shard %s: %zu of %zu slides, %zu segmented now, %zu finished before, %zu failed\n",
              shard.to_string().c_str(), work.taken(), slides.size(), segmented, work.finished_before,
              failures.size());
  std::printf(
      "merged summary of all %zu slides in %s/summary.csv and summary.json: %zu finished, %zu failed, %zu "
      "pending\n",
      slides.size(), out.c_str(), counts.finished, counts.failed, counts.pending);
  HP_CHECK(failures.empty(), InputError, failures.size(), " of ", work.taken(),
           " slides could not be segmented; the first: ", failures.front());
}

void run_segment(const SegmentCommand& cmd, const GlobalOptions& global) {
  apply_global(global);
  set_threads(cmd.compute.threads);
  HP_CHECK(!(cmd.cells && cmd.no_cells), InputError, "--cells and --no-cells cannot be used together");
  HP_CHECK(cmd.stain.empty() || cmd.stain_reference.empty(), InputError,
           "--stain and --stain-reference cannot be used together");
  const std::vector<std::string> slides = with_listed(cmd.paths, cmd.list);
  HP_CHECK(!slides.empty(), InputError, "no slides: give slide paths or --list FILE");
  const bool batch = slides.size() > 1 || !cmd.shard.empty() || !cmd.list.empty();
  HP_CHECK(!batch || cmd.truth.empty(), ConfigError, "--truth scores one slide: use it with a single slide");
  if (batch) {
    const std::unique_ptr<TileModel> model = TileModel::load(cmd.model, cmd.compute.inference());
    run_segment_batch(cmd, slides, *model, segment_options(cmd, *model));
    return;
  }
  const SlideReader slide(slides[0], SlideOpenOptions{cmd.slide.slide_mpp});
  const std::unique_ptr<TileModel> model = TileModel::load(cmd.model, cmd.compute.inference());
  const std::string out = default_out(cmd.slide, "segment", slides[0]);
  print_slide(slides[0], out, segment_slide(slide, *model, segment_options(cmd, *model), out).json, cmd.truth);
}

}  // namespace

void setup_slide(CLI::App& app, const GlobalOptions& global) {
  CLI::App* slide = app.add_subcommand("slide", "Whole-slide images: tiles for training, tiled segmentation");
  slide->require_subcommand(1);

  auto tile = std::make_shared<TileCommand>();
  CLI::App* t = slide->add_subcommand("tile", "Cut a slide into tiles (PNG/JPEG + CSV), with mask tiles and context patches");
  t->add_option("slide", tile->path, kSlideHelp)->required();
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
  // One reader keeps up with the network on a CPU; each more holds its own heap of tile buffers.
  seg->compute.workers = 1;
  CLI::App* s = slide->add_subcommand("segment", "Segment a slide tile by tile: pyramidal TIFF, overlay, GeoJSON");
  s->add_option("slides", seg->paths,
                std::string(kSlideHelp) +
                    "; with several (or --list, --shard) each goes to <out>/<slide stem>/ and "
                    "<out>/summary.csv, summary.json merge them");
  s->add_option("--list", seg->list,
                "Also segment the slides this text file lists, one path per line (relative paths from the list's "
                "folder)");
  s->add_option("--shard", seg->shard,
                "Segment share i/n of the slides (0 <= i < n; 'env': RANK/WORLD_SIZE); finished slides in --out are "
                "skipped, interrupted ones resumed");
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
