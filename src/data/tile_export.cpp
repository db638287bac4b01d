#include "hemapath/data/tile_export.h"

#include <algorithm>
#include <filesystem>

#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/core/log.h"
#include "hemapath/io/slide_annotation.h"
#include "hemapath/io/csv.h"
#include "hemapath/io/image_io.h"

namespace hemapath {
namespace fs = std::filesystem;
namespace {

std::string tile_name(const Tile& t) { return std::to_string(t.row) + "_" + std::to_string(t.col); }

}  // namespace

TileExportSummary export_tiles(const SlideReader& slide, const TileExportOptions& o, const std::string& out_dir) {
  HP_CHECK(o.format == "png" || o.format == "jpg", ConfigError, "--format must be png or jpg, got '", o.format, "'");
  HP_CHECK(!o.context_mpp || *o.context_mpp > 0, ConfigError, "--context-mpp must be > 0 um/px");
  HP_CHECK(o.context_size >= 0, ConfigError, "--context-size must be >= 0 px");
  const fs::path out(out_dir);
  HP_CHECK(!fs::exists(out), OutputError, "output folder '", out_dir, "' already exists: choose a new one");
  const double slide_mpp = slide.require_mpp();
  std::optional<SlideAnnotation> annotation;
  if (!o.annotation.empty())
    annotation.emplace(o.annotation, o.classes, static_cast<double>(slide.width()), static_cast<double>(slide.height()));

  const cv::Mat thumbnail = slide.thumbnail(o.thumbnail_size);
  const cv::Mat tissue = detect_tissue(thumbnail, o.tissue);
  const TileGrid grid(slide.width(), slide.height(), slide_mpp, o.grid,
                      TissueMap{tissue, static_cast<double>(slide.width()) / thumbnail.cols});
  const int context_size = o.context_size > 0 ? o.context_size : o.grid.tile_size;

  const fs::path root = out.parent_path() / (out.filename().string() + ".partial");
  fs::remove_all(root);
  fs::create_directories(root / "tiles");
  if (annotation) fs::create_directories(root / "masks");
  if (o.context_mpp) fs::create_directories(root / "context");
  TileExportSummary summary;
  summary.grid_tiles = grid.cols() * grid.rows();
  try {
    CsvWriter csv({"index", "col", "row", "x", "y", "width", "height", "mpp", "tissue", "image", "mask", "context",
                   "context_x", "context_y", "context_mpp"});
    const double extent = o.grid.tile_size * grid.downsample();  // level-0 px
    for (const Tile& t : grid.tiles()) {
      const std::string name = tile_name(t);
      const std::string image = "tiles/" + name + "." + o.format;
      write_image((root / image).string(), slide.read_region_at_mpp(t.x0, t.y0, o.grid.tile_size, o.grid.tile_size, o.grid.mpp));
      std::string mask, context, cx, cy, cmpp;
      if (annotation) {
        mask = "masks/" + name + ".png";
        write_image((root / mask).string(), annotation->region(t.x0, t.y0, grid.downsample(), o.grid.tile_size, o.grid.tile_size));
      }
      if (o.context_mpp) {
        const cv::Point2d origin = grid.context_origin(t, context_size, *o.context_mpp);
        context = "context/" + name + "." + o.format;
        write_image((root / context).string(),
                    slide.read_region_at_mpp(origin.x, origin.y, context_size, context_size, *o.context_mpp));
        cx = format_number(origin.x, 10), cy = format_number(origin.y, 10), cmpp = format_number(*o.context_mpp, 10);
      }
      csv.add_row({std::to_string(t.index), std::to_string(t.col), std::to_string(t.row), format_number(t.x0, 10),
                   format_number(t.y0, 10), format_number(extent, 10), format_number(extent, 10),
                   format_number(o.grid.mpp, 10), format_number(t.tissue, 4), image, mask, context, cx, cy, cmpp});
      if (++summary.tiles % 200 == 0) logger("slide")->info("{} of {} tiles written", summary.tiles, grid.tiles().size());
    }
    csv.write((root / "tiles.csv").string());
    write_image((root / "thumbnail.png").string(), thumbnail);
    write_image((root / "tissue.png").string(), tissue);
    fs::rename(root, out);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(root, ignored);
    throw;
  }
  if (annotation) summary.classes = annotation->classes();
  return summary;
}

}  // namespace hemapath
