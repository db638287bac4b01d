// hemapath info: what a model file, image or slide is.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <opencv2/imgcodecs.hpp>

#include "commands.h"
#include "hemapath/core/error.h"
#include "hemapath/io/image_io.h"
#include "hemapath/io/slide_reader.h"
#include "hemapath/models/model_file.h"

namespace hemapath::cli {
namespace {

struct InfoCommand {
  std::vector<std::string> paths;
  bool json = false;
};

nlohmann::json model_info(const std::string& path) {
  nlohmann::json header = read_model_header(path);
  header["kind"] = "model";
  header["file_bytes"] = std::filesystem::file_size(path);
  return header;
}

nlohmann::json slide_info(const std::string& path) {
  SlideReader slide(path);
  nlohmann::json levels = nlohmann::json::array();
  for (const auto& l : slide.levels())
    levels.push_back({{"width", l.width}, {"height", l.height}, {"downsample", l.downsample}});
  nlohmann::json j = {{"kind", "slide"}, {"vendor", slide.vendor()}, {"levels", levels},
                      {"associated_images", slide.associated_images()}};
  j["mpp_x"] = slide.mpp_x() ? nlohmann::json(*slide.mpp_x()) : nlohmann::json(nullptr);
  j["mpp_y"] = slide.mpp_y() ? nlohmann::json(*slide.mpp_y()) : nlohmann::json(nullptr);
  j["objective_power"] = slide.objective_power() ? nlohmann::json(*slide.objective_power()) : nlohmann::json(nullptr);
  return j;
}

nlohmann::json image_info(const std::string& path) {
  cv::Mat m = cv::imread(path, cv::IMREAD_UNCHANGED);
  HP_CHECK(!m.empty(), InputError, "image '", path, "' cannot be decoded (corrupt or not an image)");
  const char* depth = m.depth() == CV_8U ? "uint8" : m.depth() == CV_16U ? "uint16" : m.depth() == CV_32F ? "float32" : "other";
  return {{"kind", "image"}, {"width", m.cols}, {"height", m.rows}, {"channels", m.channels()}, {"depth", depth}};
}

nlohmann::json describe(const std::string& path) {
  namespace fs = std::filesystem;
  HP_CHECK(fs::is_regular_file(path), InputError, "'", path, "' does not exist or is not a file");
  if (fs::path(path).extension() == ".hpm") return model_info(path);
  std::string ext = fs::path(path).extension().string();
  bool plain = ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
  if (!plain && SlideReader::is_slide(path)) return slide_info(path);
  HP_CHECK(has_image_extension(path), InputError, "'", path,
           "' is not a model file (.hpm), an image or a slide OpenSlide can read");
  return image_info(path);
}

void print_text(const std::string& path, const nlohmann::json& j) {
  std::printf("%s\n", path.c_str());
  const std::string kind = j.value("kind", "");
  if (kind == "model") {
    std::printf("  model: %s, task %s", j.value("arch", "").c_str(), j.value("task", "").c_str());
    if (j.contains("classes")) {
      std::printf(", %zu classes:", j["classes"].size());
      for (const auto& c : j["classes"]) std::printf(" %s", c.get<std::string>().c_str());
    }
    std::printf("\n  input: %s\n  normalization: %s\n", j["input"].dump().c_str(), j["normalization"].dump().c_str());
    if (j.contains("training") && j["training"].contains("members"))  // an ensemble (models/ensemble.h)
      for (const auto& member : j["training"]["members"])
        std::printf("  member %s: epoch %s, seed %s\n", member.value("file", "?").c_str(),
                    member.value("epoch", nlohmann::json()).dump().c_str(),
                    member.value("seed", nlohmann::json()).dump().c_str());
    else if (j.contains("training"))
      std::printf("  trained: epoch %s, seed %s\n", j["training"].value("epoch", nlohmann::json()).dump().c_str(),
                  j["training"].value("seed", nlohmann::json()).dump().c_str());
    if (j.contains("metrics") && j["metrics"].contains("val_mse"))
      std::printf("  held-out reconstruction error (mse): %s\n", j["metrics"]["val_mse"].dump().c_str());
    if (j.contains("metrics") && j["metrics"].contains("val")) {
      const nlohmann::json& val = j["metrics"]["val"];
      if (val.contains("foreground_miou"))
        std::printf("  validation: foreground mIoU %.4f, mean IoU %.4f, pixel accuracy %.4f\n",
                    val.value("foreground_miou", 0.0), val.value("mean_iou", 0.0), val.value("pixel_accuracy", 0.0));
      else
        std::printf("  validation: accuracy %.4f, macro-F1 %.4f\n", val.value("accuracy", 0.0),
                    val.value("macro_f1", 0.0));
    }
    if (j.contains("calibration")) {  // hemapath calibrate (train/prior_correction.h)
      const nlohmann::json& c = j["calibration"];
      const nlohmann::json before = c.value("before", nlohmann::json::object()),
                           after = c.value("after", nlohmann::json::object());
      std::printf("  prior correction: tau %.2f (by %s on %s): accuracy %.4f -> %.4f, macro-F1 %.4f -> %.4f\n",
                  c.value("tau", 0.0), c.value("chosen_by", "?").c_str(), c.value("evaluated_on", "?").c_str(),
                  before.value("accuracy", 0.0), after.value("accuracy", 0.0), before.value("macro_f1", 0.0),
                  after.value("macro_f1", 0.0));
    }
    for (const auto& e : j.value("evaluations", nlohmann::json::array())) {  // eval --record-in
      // An IoU without any such pixels is NaN, stored as null.
      auto figure = [&](const char* key) { return e.contains(key) && e[key].is_number() ? e[key].get<double>() : NAN; };
      if (e.contains("accuracy"))
        std::printf("  evaluated on %s (%s images, %s view(s)): accuracy %.4f, macro-F1 %.4f\n",
                    e.value("evaluated_on", "?").c_str(), e.value("images", nlohmann::json()).dump().c_str(),
                    e.value("symmetry_views", nlohmann::json()).dump().c_str(), figure("accuracy"),
                    figure("macro_f1"));
      else
        std::printf("  evaluated on %s (%s images): foreground mIoU %.4f, mean IoU %.4f\n",
                    e.value("evaluated_on", "?").c_str(), e.value("images", nlohmann::json()).dump().c_str(),
                    figure("foreground_miou"), figure("mean_iou"));
    }
    std::printf("  hemapath %s, %s bytes\n", j.value("hemapath_version", "?").c_str(), j["file_bytes"].dump().c_str());
  } else if (kind == "slide") {
    std::printf("  slide: vendor %s, %zu levels, mpp %s x %s, objective %s\n", j["vendor"].get<std::string>().c_str(),
                j["levels"].size(), j["mpp_x"].dump().c_str(), j["mpp_y"].dump().c_str(), j["objective_power"].dump().c_str());
    for (size_t i = 0; i < j["levels"].size(); ++i)
      std::printf("  level %zu: %lld x %lld px, downsample %.3f\n", i, j["levels"][i]["width"].get<long long>(),
                  j["levels"][i]["height"].get<long long>(), j["levels"][i]["downsample"].get<double>());
    std::printf("  associated images: %s\n", j["associated_images"].dump().c_str());
  } else {
    std::printf("  image: %d x %d px, %d channel(s), %s\n", j["width"].get<int>(), j["height"].get<int>(),
                j["channels"].get<int>(), j["depth"].get<std::string>().c_str());
  }
}

void run_info(const InfoCommand& cmd, const GlobalOptions& global) {
  apply_global(global);
  nlohmann::json all = nlohmann::json::object();
  for (const auto& path : cmd.paths) {
    nlohmann::json j = describe(path);
    if (cmd.json)
      all[path] = j;
    else
      print_text(path, j);
  }
  if (cmd.json) std::printf("%s\n", all.dump(2).c_str());
}

}  // namespace

void setup_info(CLI::App& app, const GlobalOptions& global) {
  auto cmd = std::make_shared<InfoCommand>();
  CLI::App* sub = app.add_subcommand("info", "Describe model files (.hpm), images and whole-slide images");
  sub->add_option("paths", cmd->paths, "Files to describe")->required();
  sub->add_flag("--json", cmd->json, "Print JSON instead of text");
  sub->callback([cmd, &global] { run_info(*cmd, global); });
}

}  // namespace hemapath::cli
