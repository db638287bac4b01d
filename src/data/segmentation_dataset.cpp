#include "hemapath/data/segmentation_dataset.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <filesystem>
#include <mutex>
#include <thread>

#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/core/log.h"
#include "hemapath/core/random.h"
#include "hemapath/image/tensor_convert.h"
#include "hemapath/io/image_io.h"

namespace hemapath {
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kForegroundClasses = {"background", "cell"};
const std::vector<std::string> kBoundaryClasses = {"background", "cell", "boundary"};

}  // namespace

cv::Mat load_segmentation_target(const SegmentationPair& pair, const SegmentationDataSpec& spec,
                                 const cv::Size& image_size) {
  return segmentation_target(read_mask(pair.mask_path), pair, spec, image_size);
}

cv::Mat segmentation_target(const cv::Mat& mask, const SegmentationPair& pair, const SegmentationDataSpec& spec,
                            const cv::Size& image_size) {
  HP_CHECK(mask.size() == image_size, InputError, "mask '", pair.mask_path, "' is ", mask.cols, " x ", mask.rows,
           " px but its image '", pair.image_path, "' is ", image_size.width, " x ", image_size.height,
           ": expected the same size");
  if (spec.mask_kind == "instance") return instance_targets(mask, spec.target, spec.unlabelled_id);
  double lo = 0, hi = 0;
  cv::minMaxLoc(mask, &lo, &hi);
  HP_CHECK(hi < static_cast<double>(spec.num_classes()), InputError, "mask '", pair.mask_path, "' holds class ",
           hi, ": expected 0..", spec.num_classes() - 1, " (data.classes names ", spec.num_classes(), ")");
  cv::Mat target;
  mask.convertTo(target, CV_8U);
  return target;
}

cv::Size scaled_size(const cv::Size& size, double scale) {
  return {std::max(1, static_cast<int>(std::lround(size.width * scale))),
          std::max(1, static_cast<int>(std::lround(size.height * scale)))};
}

SegmentationDataSpec SegmentationDataSpec::from_config(const ConfigNode& node, const std::string& base_dir) {
  SegmentationDataSpec s;
  s.images = node.get_path("images", base_dir, true);
  s.masks = node.get_path("masks", base_dir, true);
  s.mask_kind = node.get_choice("mask", s.mask_kind, {"index", "instance"});
  s.target = node.get_choice("target", s.target, {"foreground", "boundary"});
  s.classes = node.get<std::vector<std::string>>("classes", {});
  if (node.has("context")) s.context = node.get_path("context", base_dir, true);
  s.unlabelled_id = static_cast<int>(node.get_int("unlabelled_id", s.unlabelled_id, 0, 65535));
  HP_CHECK(s.unlabelled_id == 0 || s.mask_kind == "instance", ConfigError, node.where("unlabelled_id"),
           " is for instance masks: index masks mark unknown pixels with the loss's ignore_index");
  if (s.mask_kind == "instance") {
    const auto& implied = s.target == "boundary" ? kBoundaryClasses : kForegroundClasses;
    HP_CHECK(s.classes.empty() || s.classes.size() == implied.size(), ConfigError, node.where("classes"), " names ",
             s.classes.size(), " classes but instance masks with target '", s.target, "' give ", implied.size());
    if (s.classes.empty()) s.classes = implied;
  } else {
    HP_CHECK(s.classes.size() >= 2 && s.classes.size() <= 255, ConfigError, node.where("classes"),
             ": index masks need the class names in index order, background first (2 to 255 names)");
  }
  return s;
}

nlohmann::json SegmentationDataSpec::to_json() const {
  nlohmann::json j = {{"images", images}, {"masks", masks}, {"mask", mask_kind}, {"target", target}, {"classes", classes}};
  if (!context.empty()) j["context"] = context;
  if (unlabelled_id) j["unlabelled_id"] = unlabelled_id;
  return j;
}

SegmentationDataSpec SegmentationDataSpec::from_json(const nlohmann::json& j) {
  SegmentationDataSpec s;
  s.images = j.at("images");
  s.masks = j.at("masks");
  s.mask_kind = j.at("mask");
  s.target = j.at("target");
  s.classes = j.at("classes").get<std::vector<std::string>>();
  s.context = j.value("context", "");
  s.unlabelled_id = j.value("unlabelled_id", 0);
  return s;
}

std::vector<SegmentationPair> list_segmentation_pairs(const SegmentationDataSpec& spec) {
  HP_CHECK(fs::is_directory(spec.images), InputError, "image folder '", spec.images, "' does not exist");
  HP_CHECK(fs::is_directory(spec.masks), InputError, "mask folder '", spec.masks, "' does not exist");
  HP_CHECK(spec.context.empty() || fs::is_directory(spec.context), InputError, "context folder '", spec.context,
           "' does not exist");
  std::vector<SegmentationPair> pairs;
  size_t without_mask = 0;
  for (const auto& entry : fs::directory_iterator(spec.images)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || name[0] == '.' || !has_image_extension(name)) continue;
    const fs::path mask = fs::path(spec.masks) / (entry.path().stem().string() + ".png");
    if (!fs::is_regular_file(mask)) {
      ++without_mask;
      continue;
    }
    std::string context;
    if (!spec.context.empty()) {
      context = (fs::path(spec.context) / name).string();
      HP_CHECK(fs::is_regular_file(context), InputError, "image '", entry.path().string(), "' has no context patch '",
               context, "'");
    }
    pairs.push_back({entry.path().string(), mask.string(), context});
  }
  HP_CHECK(!pairs.empty(), InputError, "no image in '", spec.images, "' has a mask in '", spec.masks,
           "' (expected <image stem>.png)");
  if (without_mask) logger("data")->warn("{}: skipped {} image(s) without a mask", spec.images, without_mask);
  std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) { return a.image_path < b.image_path; });
  return pairs;
}

cv::Mat instance_targets(const cv::Mat& instances, const std::string& target, int unlabelled_id) {
  HP_CHECK(instances.channels() == 1 && (instances.depth() == CV_8U || instances.depth() == CV_16U), InputError,
           "instance mask: expected one 8- or 16-bit channel of cell ids");
  cv::Mat ids;  // float: morphology has no 32-bit integer form, and ids <= 65535 are exact in it
  instances.convertTo(ids, CV_32F);
  cv::Mat out = (ids > 0) / 255;  // 0 background, 1 cell
  if (target == "boundary") {
    // A pixel whose 3x3 neighbourhood holds another id (a touching cell or the background).
    cv::Mat low, high;
    cv::Mat kernel = cv::getStructuringElement(cv::MORPH_RECT, {3, 3});
    cv::erode(ids, low, kernel, {-1, -1}, 1, cv::BORDER_REPLICATE);
    cv::dilate(ids, high, kernel, {-1, -1}, 1, cv::BORDER_REPLICATE);
    out.setTo(2, (low != high) & (ids > 0));
  } else {
    HP_CHECK(target == "foreground", InputError, "instance target '", target, "': expected foreground or boundary");
  }
  if (unlabelled_id > 0) out.setTo(kUnlabelledTarget, ids == static_cast<float>(unlabelled_id));
  return out;
}

SegmentationDataset::SegmentationDataset(std::vector<SegmentationPair> pairs, SegmentationDataSpec spec,
                                         SegmentationDataOptions options)
    : pairs_(std::move(pairs)), spec_(std::move(spec)), options_(std::move(options)) {
  HP_CHECK(options_.patch >= 8, ConfigError, "patch size ", options_.patch, " px: expected at least 8");
  HP_CHECK(options_.scale > 0 && options_.scale <= 8, ConfigError, "scale ", options_.scale, ": expected (0, 8]");
}

void SegmentationDataset::load(int threads) {
  const size_t n = pairs_.size();
  images_.assign(n, {});
  targets_.assign(n, {});
  contexts_.assign(n, {});
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&] {
    for (size_t i = next++; i < n; i = next++) {
      try {
        images_[i] = read_image_rgb(pairs_[i].image_path);
        targets_[i] = load_segmentation_target(pairs_[i], spec_, images_[i].size());
        if (has_context()) {
          contexts_[i] = read_image_rgb(pairs_[i].context_path);
          HP_CHECK(contexts_[i].size() == images_[i].size(), InputError, "context patch '", pairs_[i].context_path,
                   "' is ", contexts_[i].cols, "x", contexts_[i].rows, " px: expected the size of '",
                   pairs_[i].image_path, "'");
        }
        if (options_.stain) {
          images_[i] = options_.stain->apply(images_[i]);
          if (!contexts_[i].empty()) contexts_[i] = options_.stain->apply(contexts_[i]);
        }
        const cv::Size size = scaled_size(images_[i].size(), options_.scale);
        auto rescale = [&](cv::Mat& m, int interpolation) {
          if (!m.empty() && options_.scale != 1) cv::resize(m, m, size, 0, 0, interpolation);
        };
        rescale(images_[i], options_.scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
        rescale(contexts_[i], options_.scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
        rescale(targets_[i], cv::INTER_NEAREST);
        HP_CHECK(!has_context() || (images_[i].cols == options_.patch && images_[i].rows == options_.patch),
                 ConfigError, "data.patch is ", options_.patch, " px but '", pairs_[i].image_path, "' is ",
                 images_[i].cols, "x", images_[i].rows,
                 " px at data.scale: with context patches every tile is used whole (a crop would move its centre)");
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::min<int>(std::max(1, threads), static_cast<int>(n)); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

std::pair<torch::Tensor, torch::Tensor> SegmentationDataset::patch(size_t i, uint64_t seed) const {
  Rng rng(seed);
  const cv::Mat& full_image = image(i);
  const cv::Mat& full_target = target(i);
  const int p = options_.patch;
  // Pad images smaller than the patch: reflected image (no false edge), background target.
  const int pad_y = std::max(0, p - full_image.rows), pad_x = std::max(0, p - full_image.cols);
  cv::Mat img = full_image, tgt = full_target;
  if (pad_y || pad_x) {
    const int border = full_image.rows > 1 && full_image.cols > 1 ? cv::BORDER_REFLECT_101 : cv::BORDER_REPLICATE;
    cv::copyMakeBorder(full_image, img, pad_y / 2, pad_y - pad_y / 2, pad_x / 2, pad_x - pad_x / 2, border);
    cv::copyMakeBorder(full_target, tgt, pad_y / 2, pad_y - pad_y / 2, pad_x / 2, pad_x - pad_x / 2,
                       cv::BORDER_CONSTANT, 0);
  }
  const int y = static_cast<int>(uniform(rng, 0, img.rows - p + 1)), x = static_cast<int>(uniform(rng, 0, img.cols - p + 1));
  const cv::Rect box(std::min(x, img.cols - p), std::min(y, img.rows - p), p, p);
  cv::Mat image_patch = img(box).clone(), target_patch = tgt(box).clone();
  // The context takes the same draws (a copy of the generator), so flips, rotations and zoom
  // about the shared centre keep the two patches aligned.
  Rng context_rng = rng;
  augment(image_patch, &target_patch, options_.augment, rng);
  torch::Tensor input = image_to_tensor(image_patch, options_.normalization);
  if (has_context()) {
    cv::Mat context_patch = contexts_[i].clone();
    augment(context_patch, nullptr, options_.augment, context_rng);
    input = torch::cat({input, image_to_tensor(context_patch, options_.normalization)});
  }
  return {input, torch::from_blob(target_patch.data, {p, p}, torch::kUInt8).to(torch::kLong)};
}

std::pair<torch::Tensor, torch::Tensor> SegmentationDataset::whole(size_t i) const {
  const cv::Mat& t = target(i);
  cv::Mat contiguous = t.isContinuous() ? t : t.clone();
  torch::Tensor input = image_to_tensor(image(i), options_.normalization);
  if (has_context()) input = torch::cat({input, image_to_tensor(contexts_[i], options_.normalization)});
  return {input, torch::from_blob(contiguous.data, {t.rows, t.cols}, torch::kUInt8).to(torch::kLong)};
}

}  // namespace hemapath
