#include "hemapath/infer/slide_segmentation.h"

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include <opencv2/imgproc.hpp>

#include "hemapath/core/atomic_file.h"
#include "hemapath/core/bounded_queue.h"
#include "hemapath/core/error.h"
#include "hemapath/core/log.h"
#include "hemapath/core/memory.h"
#include "hemapath/core/progress.h"
#include "hemapath/data/tile_grid.h"
#include "hemapath/data/tile_thumbnail.h"
#include "hemapath/image/tensor_convert.h"
#include "hemapath/infer/segmentation_predictor.h"
#include "hemapath/infer/slide_outputs.h"
#include "hemapath/io/image_io.h"
#include "hemapath/io/pyramid_tiff.h"
#include "hemapath/io/raster_file.h"
#include "hemapath/train/segmentation_config.h"

namespace hemapath {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

// The settings a run is made of once defaults are resolved; a resumed run must match them.
struct RunSettings {
  double slide_mpp = 0, mpp = 0;
  int tile = 0, overlap = 0, batch = 1;
  bool cells = false;
  InstanceOptions instances;
  std::optional<StainNormalizer> stain;  ///< the one asked for, else the model's own
};

// Tiles per forward pass when none is asked for: as many as keep a batch within 2^18 px.
// Beyond that the activations outgrow the caches and throughput falls (bench/run: a U-Net on
// 512 px tiles runs 4.2 tiles/s one at a time and 3.4 in fours, at a third more memory).
int tiles_per_batch(int tile) {
  const int64_t area = static_cast<int64_t>(tile) * tile;
  int batch = 1;
  while (2 * batch * area <= (int64_t{1} << 18)) batch *= 2;
  return batch;
}

RunSettings resolve(const SlideReader& slide, const TileModelInfo& info, const SlideSegmentOptions& options) {
  HP_CHECK(options.batch_size >= 0, ConfigError, "--batch-size must be > 0 (or 0: chosen for throughput), got ",
           options.batch_size);
  HP_CHECK(options.workers > 0, ConfigError, "--workers must be > 0, got ", options.workers);
  HP_CHECK(options.thumbnail_size >= 16 && options.region_map_size >= 16, ConfigError,
           "thumbnail and region map sizes must be at least 16 px");
  HP_CHECK(info.classes.size() >= 2 && info.classes.size() <= 255, ModelFileError, "model '", info.source,
           "' has ", info.classes.size(), " classes: slide segmentation needs 2 to 255");
  RunSettings s;
  s.slide_mpp = slide.require_mpp();
  s.mpp = options.mpp.value_or(info.mpp.value_or(s.slide_mpp));
  HP_CHECK(s.mpp > 0, ConfigError, "--mpp must be > 0 um/px, got ", s.mpp);
  s.tile = options.tile_size.value_or(info.tile_size.value_or(512));
  s.overlap = options.overlap;
  s.batch = options.batch_size > 0 ? options.batch_size : tiles_per_batch(s.tile);
  HP_CHECK(s.tile > 0 && s.tile % info.stride == 0 && s.overlap % info.stride == 0, ConfigError, "--size ", s.tile,
           " and --overlap ", s.overlap, " px must be multiples of the model's stride ", info.stride,
           " (so every tile meets the network's pooling grid where the whole slide would)");
  s.cells = options.cells.value_or(info.target == "foreground" || info.target == "boundary");
  s.instances = options.instances.value_or(instance_options_from_json(info.instances));
  validate(s.instances);
  s.stain = options.stain ? options.stain : info.stain;
  return s;
}

nlohmann::json run_identity(const SlideReader& slide, const TileModelInfo& info, const RunSettings& s,
                            const SlideSegmentOptions& options) {
  return {{"slide", fs::absolute(slide.path()).string()},
          {"slide_size", {slide.width(), slide.height()}},
          {"model", fs::absolute(info.source).string()},
          {"mpp", s.mpp},
          {"tile", s.tile},
          {"overlap", s.overlap},
          {"min_tissue", options.min_tissue},
          {"cells", s.cells},
          {"stain", s.stain ? s.stain->to_json() : nlohmann::json(nullptr)}};
}

// Which tiles are done, and how long the cell files were when they were: one JSON line per
// finished batch, appended after the batch's pixels and cells are on disk.
struct Journal {
  std::set<int64_t> done;
  int64_t cells_bytes = 0, csv_bytes = 0, next_id = 1;

  static Journal read(const fs::path& path) {
    Journal j;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      nlohmann::json entry = nlohmann::json::parse(line, nullptr, false);
      if (entry.is_discarded() || !entry.contains("next_id")) break;  // a line cut by the interruption
      for (const auto& t : entry["tiles"]) j.done.insert(t.get<int64_t>());
      j.cells_bytes = entry["cells_bytes"];
      j.csv_bytes = entry["csv_bytes"];
      j.next_id = entry["next_id"];
    }
    return j;
  }
};

// A file appended to and flushed to the disk batch by batch.
class AppendFile {
 public:
  AppendFile(const fs::path& path, int64_t keep_bytes) : path_(path) {
    if (!fs::exists(path)) std::ofstream(path).close();
    fs::resize_file(path, static_cast<uintmax_t>(keep_bytes));  // drops lines of an unfinished batch
    file_ = std::fopen(path.c_str(), "ab");
    HP_CHECK(file_ != nullptr, OutputError, "cannot open '", path.string(), "' for writing");
  }
  ~AppendFile() {
    if (file_) std::fclose(file_);
  }
  void line(const std::string& text) {
    HP_CHECK(std::fputs(text.c_str(), file_) >= 0 && std::fputc('\n', file_) != EOF, OutputError, "writing '",
             path_.string(), "' failed");
  }
  // Flushed and synced; returns the file's size.
  int64_t sync() {
    HP_CHECK(std::fflush(file_) == 0 && ::fsync(fileno(file_)) == 0, OutputError, "flushing '", path_.string(),
             "' failed");
    return static_cast<int64_t>(fs::file_size(path_));
  }

 private:
  fs::path path_;
  std::FILE* file_ = nullptr;
};

struct ReadTile {
  Tile tile;
  cv::Mat rgb;
  torch::Tensor input;
};

// Reads tiles on `workers` threads into a bounded queue, in order of `tiles`, so the network
// never waits on decoding and read-ahead never holds more than the queue's capacity.
class TilePrefetcher {
 public:
  // Tiles are painted into `thumbnail` (if any) as read, before stain normalisation.
  TilePrefetcher(const SlideReader& slide, const TileGrid& grid, const std::vector<Tile>& tiles, const RunSettings& s,
                 const SlideSegmentOptions& options, const Normalization& normalization,
                 std::optional<double> context_ratio, TileThumbnail* thumbnail)
      : queue_(static_cast<size_t>(2 * s.batch)), workers_(options.workers) {
    for (int w = 0; w < workers_; ++w)
      threads_.emplace_back([this, &slide, &grid, &tiles, &s, &options, &normalization, context_ratio, thumbnail] {
        try {
          for (size_t i = next_++; i < tiles.size(); i = next_++) {
            const Tile& t = tiles[i];
            cv::Mat rgb = slide.read_region_at_mpp(t.x0, t.y0, s.tile, s.tile, s.mpp);
            if (thumbnail) thumbnail->paint(t, rgb);
            if (s.stain) rgb = s.stain->apply(rgb);
            torch::Tensor input = image_to_tensor(rgb, normalization);
            if (context_ratio) {  // a multi-resolution model also sees the tile's surroundings
              const double context_mpp = s.mpp * *context_ratio;
              const cv::Point2d origin = grid.context_origin(t, s.tile, context_mpp);
              cv::Mat context = slide.read_region_at_mpp(origin.x, origin.y, s.tile, s.tile, context_mpp);
              if (s.stain) context = s.stain->apply(context);
              input = torch::cat({input, image_to_tensor(context, normalization)});
            }
            if (!queue_.push(ReadTile{t, std::move(rgb), std::move(input)})) return;
          }
        } catch (...) {
          std::lock_guard<std::mutex> lock(error_mutex_);
          if (!error_) error_ = std::current_exception();
          queue_.close();
        }
        if (++finished_ == workers_) queue_.close();  // the last reader out closes
      });
  }
  ~TilePrefetcher() {
    queue_.close();
    for (auto& t : threads_) t.join();
  }
  // The next tile read, or empty when all are (rethrows a reader's error).
  std::optional<ReadTile> next() {
    std::optional<ReadTile> item = queue_.pop();
    if (!item) {
      std::lock_guard<std::mutex> lock(error_mutex_);
      if (error_) std::rethrow_exception(error_);
    }
    return item;
  }

 private:
  BoundedQueue<ReadTile> queue_;
  int workers_;
  std::atomic<size_t> next_{0};
  std::atomic<int> finished_{0};
  std::mutex error_mutex_;
  std::exception_ptr error_;
  std::vector<std::thread> threads_;
};

ClassLegend region_legend(const TileModelInfo& info) {
  ClassLegend legend;
  legend.names.assign(info.classes.begin() + 1, info.classes.end());
  return legend;
}

cv::Size fitted(int width, int height, int max_side) {
  const double scale = std::min(1.0, static_cast<double>(max_side) / std::max(width, height));
  return {std::max(1, static_cast<int>(std::lround(width * scale))),
          std::max(1, static_cast<int>(std::lround(height * scale)))};
}

// Streams the cell lines into a FeatureCollection without holding them in memory.
void write_cell_collection(const fs::path& lines, const fs::path& target) {
  AtomicFile file(target);
  {
    std::ofstream out(file.temp_path());
    std::ifstream in(lines);
    out << "{\"type\":\"FeatureCollection\",\"features\":[\n";
    std::string line;
    bool first = true;
    while (std::getline(in, line)) {
      out << (first ? "" : ",\n") << line;
      first = false;
    }
    out << "\n]}\n";
    HP_CHECK(out.good(), OutputError, "writing '", target.string(), "' failed");
  }
  file.commit();
}

void write_cell_table(const fs::path& rows, const fs::path& target) {
  AtomicFile file(target);
  {
    std::ofstream out(file.temp_path());
    std::ifstream in(rows);
    out << cell_csv_header() << "\n";
    // Streaming an empty buffer sets failbit: a slide without cells has the header alone.
    if (in.peek() != std::ifstream::traits_type::eof()) out << in.rdbuf();
    HP_CHECK(out.good(), OutputError, "writing '", target.string(), "' failed");
  }
  file.commit();
}

}  // namespace

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // KiB on Linux
}

SlideSegmentSummary segment_slide(const SlideReader& slide, TileModel& model, const SlideSegmentOptions& options,
                                  const std::string& out_dir) {
  auto log = logger("slide");
  const Clock::time_point start = Clock::now();
  const TileModelInfo& info = model.info();
  const RunSettings s = resolve(slide, info, options);
  std::optional<SlideAnnotation> truth;  // read first: a bad annotation fails before any work
  if (!options.truth.empty())
    truth.emplace(options.truth, options.truth_classes, static_cast<double>(slide.width()),
                  static_cast<double>(slide.height()));

  // Without a tissue filter the grid needs no mask, and a fresh run reads every tile: the
  // thumbnail (for the overlay and tissue mask) is then pieced together from the tiles, not
  // read from the slide's whole level a second time.
  const bool thumbnail_from_tiles = options.min_tissue <= 0 && !options.resume;
  cv::Mat thumbnail, tissue;
  std::optional<TissueMap> tissue_map;
  if (!thumbnail_from_tiles) {
    thumbnail = slide.thumbnail(options.thumbnail_size);
    tissue = detect_tissue(thumbnail, options.tissue);
    tissue_map = TissueMap{tissue, static_cast<double>(slide.width()) / thumbnail.cols};
  }
  TileGridOptions grid_options;
  grid_options.mpp = s.mpp;
  grid_options.tile_size = s.tile;
  grid_options.overlap = s.overlap;
  grid_options.min_tissue = options.min_tissue;
  const TileGrid grid(slide.width(), slide.height(), s.slide_mpp, grid_options, tissue_map);
  std::optional<TileThumbnail> pieced;
  if (thumbnail_from_tiles)
    pieced.emplace(grid, cv::Size(static_cast<int>(slide.width()), static_cast<int>(slide.height())),
                   slide.thumbnail_size(options.thumbnail_size));

  const fs::path out(out_dir), partial = out / "partial";
  const nlohmann::json identity = run_identity(slide, info, s, options);
  Journal journal;
  std::optional<RasterFile> raster;
  if (options.resume) {
    HP_CHECK(fs::is_regular_file(partial / "run.json"), InputError, "--resume: '", out_dir,
             "' holds no interrupted run (no partial/run.json)");
    std::ifstream in(partial / "run.json");
    const nlohmann::json previous = nlohmann::json::parse(in, nullptr, false);
    HP_CHECK(previous == identity, InputError, "--resume: the interrupted run in '", out_dir,
             "' used other settings (", previous.dump(), "); run without --resume to start again");
    journal = Journal::read(partial / "journal.jsonl");
    raster = RasterFile::open((partial / "classes.raw").string(), grid.width(), grid.height(), 1);
  } else {
    if (fs::exists(partial)) log->info("starting again: discarding the interrupted run in {}", partial.string());
    fs::remove_all(partial);
    fs::create_directories(partial);
    write_text_atomic(partial / "run.json", identity.dump(2));
    raster = RasterFile::create((partial / "classes.raw").string(), grid.width(), grid.height(), 1);
  }

  std::vector<Tile> todo;
  for (const Tile& t : grid.tiles())
    if (!journal.done.count(t.index)) todo.push_back(t);
  log->info("{}: {}x{} px at {:.3f} um/px, {} tiles of {} px with tissue of {} ({} to run)", slide.path(),
            grid.width(), grid.height(), s.mpp, grid.tiles().size(), s.tile, grid.cols() * grid.rows(), todo.size());

  const ClassLegend legend = region_legend(info);
  ClassLegend cell_legend = legend;
  const bool classify_cells = info.target == "classes";
  if (!classify_cells) cell_legend.names = {"cell"};
  std::optional<AppendFile> cell_lines, cell_rows;
  if (s.cells) {
    cell_lines.emplace(partial / "cells.jsonl", journal.cells_bytes);
    cell_rows.emplace(partial / "cells.csv", journal.csv_bytes);
  }
  AppendFile journal_file(partial / "journal.jsonl", static_cast<int64_t>(fs::exists(partial / "journal.jsonl")
                                                                             ? fs::file_size(partial / "journal.jsonl")
                                                                             : 0));

  const Clock::time_point tiles_start = Clock::now();
  {
    Progress progress("slide", static_cast<int64_t>(todo.size()), "tile");
    TilePrefetcher prefetcher(slide, grid, todo, s, options, info.normalization, info.context_ratio,
                              pieced ? &*pieced : nullptr);
    std::vector<ReadTile> batch;
    auto run_batch = [&] {
      std::vector<torch::Tensor> inputs;
      for (const ReadTile& r : batch) inputs.push_back(r.input);
      const torch::Tensor p = model.probabilities(torch::stack(inputs)).contiguous();
      const torch::Tensor classes = most_probable_class(p, 1);
      nlohmann::json finished = nlohmann::json::array();
      for (size_t i = 0; i < batch.size(); ++i) {
        const Tile& t = batch[i].tile;
        const cv::Mat cls(s.tile, s.tile, CV_8U, classes[static_cast<int64_t>(i)].data_ptr<uint8_t>());
        const cv::Rect keep_in_tile(t.keep.tl() - t.rect.tl(), t.keep.size());
        raster->write(t.keep, cls(keep_in_tile));
        if (s.cells) {
          SegmentationMaps maps;
          for (int64_t c = 0; c < p.size(1); ++c)
            maps.probabilities.push_back(
                cv::Mat(s.tile, s.tile, CV_32F, p[static_cast<int64_t>(i)][c].data_ptr<float>()).clone());
          maps.classes = cls.clone();
          const cv::Mat labels = cells_from_maps(maps, info.target, s.instances);
          const TilePlacement placement{keep_in_tile, t.x0, t.y0, grid.downsample(), s.mpp};
          const TileCells cells =
              tile_cells(labels, batch[i].rgb, cls, classify_cells, placement, cell_legend, journal.next_id);
          for (const auto& f : cells.features) cell_lines->line(f);
          for (const auto& r : cells.csv_rows) cell_rows->line(r);
          journal.next_id += static_cast<int64_t>(cells.features.size());
        }
        finished.push_back(t.index);
      }
      raster->sync();
      if (s.cells) {
        journal.cells_bytes = cell_lines->sync();
        journal.csv_bytes = cell_rows->sync();
      }
      journal_file.line(nlohmann::json{{"tiles", finished},
                                       {"cells_bytes", journal.cells_bytes},
                                       {"csv_bytes", journal.csv_bytes},
                                       {"next_id", journal.next_id}}
                            .dump());
      journal_file.sync();
      progress.advance(static_cast<int64_t>(batch.size()));
      batch.clear();
    };
    while (std::optional<ReadTile> tile = prefetcher.next()) {
      batch.push_back(std::move(*tile));
      if (static_cast<int>(batch.size()) == s.batch) run_batch();
    }
    if (!batch.empty()) run_batch();
  }
  const double tile_seconds = seconds_since(tiles_start);
  const double tile_peak_rss = peak_rss_mib();
  // The network's activations are kept for reuse while tiles run (core/memory.h); the outputs
  // are made on other threads (libvips), which would add their memory on top.
  release_free_memory();

  // Outputs from the finished raster.
  const Clock::time_point finish_start = Clock::now();
  if (pieced) {
    thumbnail = pieced->image();
    tissue = detect_tissue(thumbnail, options.tissue);
  }
  const cv::Size region_size = fitted(grid.width(), grid.height(), options.region_map_size);
  const RasterDigest digest =
      digest_class_raster(*raster, thumbnail.size(), region_size, static_cast<int>(info.classes.size()));
  fs::create_directories(out);
  {
    AtomicFile tiff(out / "classes.tif");
    PyramidTiffOptions tiff_options;
    tiff_options.mpp = s.mpp;
    tiff_options.threads = options.tiff_threads;
    write_pyramidal_tiff(raster->path(), grid.width(), grid.height(), 1, tiff.temp_path().string(), tiff_options);
    tiff.commit();
  }
  write_image((out / "overlay.png").string(), class_overlay(thumbnail, digest.thumbnail, legend));
  write_image((out / "tissue.png").string(), tissue);
  const int64_t regions = write_class_regions((out / "regions.geojson").string(), digest.region_map, legend,
                                              static_cast<double>(slide.width()) / region_size.width);
  if (s.cells) {
    write_cell_collection(partial / "cells.jsonl", out / "cells.geojson");
    write_cell_table(partial / "cells.csv", out / "cells.csv");
  }

  nlohmann::json areas = nlohmann::json::object();
  for (size_t c = 0; c < info.classes.size(); ++c)
    areas[info.classes[c]] = static_cast<double>(digest.counts[c]) * s.mpp * s.mpp;
  const int64_t tiles_run = static_cast<int64_t>(todo.size());
  nlohmann::json summary = {
      {"slide", slide.path()},
      {"vendor", slide.vendor()},
      {"slide_size_px", {slide.width(), slide.height()}},
      {"slide_mpp", s.slide_mpp},
      {"model", info.source},
      {"model_kind", info.kind},
      {"mpp", s.mpp},
      {"output_size_px", {grid.width(), grid.height()}},
      {"tile", s.tile},
      {"overlap", s.overlap},
      {"grid", {grid.cols(), grid.rows()}},
      {"tiles_total", grid.cols() * grid.rows()},
      {"tiles_with_tissue", grid.tiles().size()},
      {"tiles_run", tiles_run},
      {"tiles_resumed", journal.done.size()},
      {"tile_seconds", tile_seconds},
      {"tiles_per_second", tile_seconds > 0 ? tiles_run / tile_seconds : 0.0},
      {"batch_size", s.batch},
      {"output_seconds", seconds_since(finish_start)},
      {"seconds", seconds_since(start)},
      {"peak_rss_mib", peak_rss_mib()},
      {"peak_rss_mib_tiles", tile_peak_rss},  // before the outputs are made from the raster
      {"class_area_um2", areas},
      {"regions", regions},
      {"stain_normalization", s.stain ? s.stain->to_json() : nlohmann::json(nullptr)},
  };
  if (s.cells) summary["cells"] = journal.next_id - 1;
  if (truth) summary["evaluation"] = score_class_raster(*raster, *truth, grid.downsample(), info.classes);
  write_text_atomic(out / "summary.json", summary.dump(2) + "\n");
  raster.reset();
  fs::remove_all(partial);
  return {summary};
}

}  // namespace hemapath
