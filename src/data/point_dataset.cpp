#include "hemapath/data/point_dataset.h"

#include <algorithm>
#include <filesystem>

#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/core/log.h"
#include "hemapath/data/split.h"
#include "hemapath/image/cell_crop.h"
#include "hemapath/io/csv.h"
#include "hemapath/io/image_io.h"
#include "hemapath/io/instance_outputs.h"

namespace hemapath {
namespace fs = std::filesystem;

namespace {

struct AnnotatedImage {
  fs::path image;
  std::vector<PointLabel> points;
};

std::vector<AnnotatedImage> read_annotations(const PointDatasetOptions& o, int num_classes) {
  HP_CHECK(fs::is_directory(o.images), InputError, "images folder '", o.images, "' does not exist");
  HP_CHECK(fs::is_directory(o.points), InputError, "points folder '", o.points, "' does not exist");
  std::vector<fs::path> images;
  for (const auto& entry : fs::directory_iterator(o.images))
    if (entry.is_regular_file() && has_image_extension(entry.path().string())) images.push_back(entry.path());
  HP_CHECK(!images.empty(), InputError, "images folder '", o.images, "' holds no images");
  std::sort(images.begin(), images.end());
  std::vector<AnnotatedImage> out;
  for (const auto& image : images) {
    const fs::path points = fs::path(o.points) / (image.stem().string() + ".txt");
    HP_CHECK(fs::is_regular_file(points), InputError, "image '", image.string(), "' has no point file '",
             points.string(), "'");
    out.push_back({image, read_point_labels(points.string(), num_classes)});
  }
  return out;
}

// Pixels of the unlabelled regions of `cells` clear of the image border: annotators pass over
// the cells the border cuts, so those say nothing about how completely a smear was labelled.
size_t inner_unlabelled_pixels(const cv::Mat& cells) {
  cv::Mat regions, stats, centroids;
  const int n = cv::connectedComponentsWithStats(cells == kUnlabelledCell, regions, stats, centroids, 8, CV_32S);
  size_t pixels = 0;
  for (int k = 1; k < n; ++k) {
    const int left = stats.at<int>(k, cv::CC_STAT_LEFT), top = stats.at<int>(k, cv::CC_STAT_TOP);
    const bool on_border = left == 0 || top == 0 || left + stats.at<int>(k, cv::CC_STAT_WIDTH) == cells.cols ||
                           top + stats.at<int>(k, cv::CC_STAT_HEIGHT) == cells.rows;
    if (!on_border) pixels += static_cast<size_t>(stats.at<int>(k, cv::CC_STAT_AREA));
  }
  return pixels;
}

// Writes one image's mask and crops into `root` (the temporary output folder); returns the
// share of the labelled and inner unlabelled pixels that belong to labelled cells.
double write_image_parts(const AnnotatedImage& item, const std::string& part, const std::vector<std::string>& classes,
                         const std::vector<bool>& cropped, const PointDatasetOptions& o, const fs::path& root,
                         CsvWriter& crops_csv, PointDatasetSummary& summary) {
  const cv::Mat rgb = read_image_rgb(item.image.string());
  const std::vector<PointLabel> points = clamp_points(item.points, rgb.size());
  const cv::Mat cells = cells_from_points(rgb, points, o.masks);
  const std::string stem = item.image.stem().string();
  write_instance_mask((root / part / "masks" / (stem + ".png")).string(), cells);
  std::vector<bool> has_pixels(points.size() + 1, false);
  size_t labelled = 0;
  for (int y = 0; y < cells.rows; ++y)
    for (int x = 0; x < cells.cols; ++x) {
      const int id = cells.at<int>(y, x);
      if (id == kUnlabelledCell) continue;
      has_pixels[id] = true;
      labelled += id != 0;
    }
  const size_t unlabelled = inner_unlabelled_pixels(cells);
  auto& crop_counts = part == "train" ? summary.train_crops : summary.test_crops;
  for (size_t k = 0; k < points.size(); ++k) {
    summary.empty_cells += !has_pixels[k + 1];
    const PointLabel& p = points[k];
    if (!cropped[p.label]) continue;
    const std::string name = stem + "_" + std::to_string(k + 1) + ".png";
    write_image((root / "crops" / part / name).string(), crop_centred(rgb, p.position, o.crop));
    crops_csv.add_row({name, classes[p.label], item.image.filename().string(), format_number(p.position.x),
                       format_number(p.position.y)});
    ++crop_counts[classes[p.label]];
  }
  if (part == "test") fs::copy_file(item.image, root / "test" / "images" / item.image.filename());
  return labelled + unlabelled ? double(labelled) / double(labelled + unlabelled) : 1.0;
}

}  // namespace

PointDatasetSummary build_point_dataset(const PointDatasetOptions& o) {
  HP_CHECK(o.test_fraction >= 0 && o.test_fraction <= 1, ConfigError, "--test-fraction must be in [0, 1], got ",
           o.test_fraction);
  HP_CHECK(o.crop >= 8, ConfigError, "--crop must be at least 8 px, got ", o.crop);
  HP_CHECK(!fs::exists(o.out), OutputError, "output folder '", o.out, "' already exists: choose a new one");
  const std::vector<std::string> classes = read_class_list(o.classes_file);
  std::vector<bool> cropped(classes.size(), true);
  for (const auto& name : o.exclude) {
    auto it = std::find(classes.begin(), classes.end(), name);
    HP_CHECK(it != classes.end(), InputError, "--exclude: class '", name, "' is not in '", o.classes_file, "'");
    cropped[it - classes.begin()] = false;
  }
  const std::vector<AnnotatedImage> annotated = read_annotations(o, static_cast<int>(classes.size()));
  const SplitIndices split =
      stratified_split(std::vector<int>(annotated.size(), 0), 1 - o.test_fraction, 0, o.test_fraction, o.seed);
  std::vector<std::string> part_of(annotated.size(), "train");
  for (size_t i : split.test) part_of[i] = "test";

  const fs::path out(o.out);
  const fs::path root = out.parent_path() / (out.filename().string() + ".partial");
  fs::remove_all(root);
  for (const char* dir : {"train/masks", "test/masks", "test/images", "crops/train", "crops/test"})
    fs::create_directories(root / dir);
  PointDatasetSummary summary;
  try {
    CsvWriter split_csv({"image", "part", "points", "labelled_share"});
    const CsvRow crop_header{"image", "label", "source", "x", "y"};
    CsvWriter train_crops(crop_header), test_crops(crop_header);
    for (size_t i = 0; i < annotated.size(); ++i) {
      const bool test = part_of[i] == "test";
      const double labelled_share = write_image_parts(annotated[i], part_of[i], classes, cropped, o, root,
                                                      test ? test_crops : train_crops, summary);
      split_csv.add_row({annotated[i].image.filename().string(), part_of[i], std::to_string(annotated[i].points.size()),
                         format_number(labelled_share)});
      (test ? summary.test_images : summary.train_images) += 1;
      (test ? summary.test_points : summary.train_points) += annotated[i].points.size();
      if ((i + 1) % 50 == 0) logger("data")->info("{} of {} images", i + 1, annotated.size());
    }
    split_csv.write((root / "split.csv").string());
    train_crops.write((root / "crops" / "train" / "labels.csv").string());
    test_crops.write((root / "crops" / "test" / "labels.csv").string());
    fs::rename(root, out);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(root, ignored);
    throw;
  }
  return summary;
}

}  // namespace hemapath
