#include "hemapath/data/dataset_spec.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "hemapath/core/error.h"
#include "hemapath/core/log.h"
#include "hemapath/io/image_io.h"
#include "hemapath/io/label_table.h"

namespace hemapath {
namespace fs = std::filesystem;

namespace {
std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}
// Sets the sample's `<image stem>.png` mask from `masks_dir` (none when empty); false, counted
// in `skipped`, when that folder lacks it.
bool attach_mask(Sample& sample, const std::string& masks_dir, std::map<std::string, int>& skipped) {
  if (masks_dir.empty()) return true;
  const fs::path mask = fs::path(masks_dir) / (fs::path(sample.image_path).stem().string() + ".png");
  if (!fs::is_regular_file(mask)) {
    ++skipped["mask file missing"];
    return false;
  }
  sample.mask_path = mask.string();
  return true;
}

void log_skipped(const std::string& source, const std::map<std::string, int>& skipped) {
  for (const auto& [reason, count] : skipped) logger("data")->warn("{}: skipped {} row(s): {}", source, count, reason);
}

}  // namespace

DatasetSpec DatasetSpec::from_config(const ConfigNode& node, const std::string& base_dir) {
  DatasetSpec spec;
  spec.labels_csv = node.get_path("labels", base_dir);
  spec.class_folders = node.get_path("class_folders", base_dir);
  spec.images = node.get_path("images", base_dir);
  spec.masks = node.get_path("masks", base_dir);
  spec.classes = node.get<std::vector<std::string>>("classes", {});
  HP_CHECK(spec.labels_csv.empty() != spec.class_folders.empty(), ConfigError, node.where("labels"),
           ": give exactly one of 'labels' (an image,label CSV) or 'class_folders' (a folder of class folders)");
  std::set<std::string> unique(spec.classes.begin(), spec.classes.end());
  HP_CHECK(unique.size() == spec.classes.size(), ConfigError, node.where("classes"), " lists a class twice");
  return spec;
}

DatasetSpec DatasetSpec::from_folder(const std::string& dir) {
  HP_CHECK(fs::is_directory(dir), InputError, "data folder '", dir, "' does not exist");
  DatasetSpec spec;
  fs::path root(dir);
  if (fs::is_regular_file(root / "labels.csv")) {
    spec.labels_csv = (root / "labels.csv").string();
    if (fs::is_directory(root / "images")) spec.images = (root / "images").string();
    if (fs::is_directory(root / "masks")) spec.masks = (root / "masks").string();
  } else {
    spec.class_folders = dir;
  }
  return spec;
}

std::string DatasetSpec::csv_image_root() const {
  return images.empty() ? fs::path(labels_csv).parent_path().string() : images;
}

nlohmann::json DatasetSpec::to_json() const {
  return {{"labels", labels_csv}, {"class_folders", class_folders}, {"images", images}, {"masks", masks},
          {"classes", classes}};
}

DatasetSpec DatasetSpec::from_json(const nlohmann::json& j) {
  DatasetSpec s;
  s.labels_csv = j.value("labels", "");
  s.class_folders = j.value("class_folders", "");
  s.images = j.value("images", "");
  s.masks = j.value("masks", "");
  s.classes = j.value("classes", std::vector<std::string>{});
  return s;
}

std::vector<int> LabeledSamples::labels() const {
  std::vector<int> out;
  out.reserve(samples.size());
  for (const auto& s : samples) out.push_back(s.label);
  return out;
}

LabeledSamples load_samples(const DatasetSpec& spec) {
  LabelTable table;
  std::string source;
  if (!spec.labels_csv.empty()) {
    source = spec.labels_csv;
    table = read_label_csv(spec.labels_csv, spec.csv_image_root());
  } else {
    source = spec.class_folders;
    table = scan_class_folders(spec.class_folders);
  }

  LabeledSamples out;
  out.skipped = table.skipped;
  std::set<std::string> found;
  for (const auto& item : table.items) found.insert(item.label);
  if (spec.classes.empty()) {
    out.class_names.assign(found.begin(), found.end());
  } else {
    for (const auto& c : spec.classes)
      HP_CHECK(found.count(c), InputError, "class '", c, "' has no images in '", source,
               "': labels found there are ", join({found.begin(), found.end()}));
    out.class_names = spec.classes;
  }

  for (const auto& item : table.items) {
    auto it = std::find(out.class_names.begin(), out.class_names.end(), item.label);
    if (it == out.class_names.end()) {
      ++out.skipped["class not selected (" + item.label + ")"];
      continue;
    }
    Sample s;
    s.image_path = item.image_path;
    s.label = static_cast<int>(it - out.class_names.begin());
    if (!attach_mask(s, spec.masks, out.skipped)) continue;
    out.samples.push_back(std::move(s));
  }
  HP_CHECK(!out.samples.empty(), InputError, "dataset '", source, "' has no usable images",
           table.items.empty() ? "" : " of the selected classes");
  log_skipped(source, out.skipped);
  for (const auto& e : table.skipped_examples) logger("data")->debug("skipped {}", e);
  return out;
}

LabeledSamples load_samples_for_classes(DatasetSpec spec, const std::vector<std::string>& classes) {
  spec.classes.clear();
  LabeledSamples all = load_samples(spec);
  for (const auto& name : all.class_names)
    HP_CHECK(std::find(classes.begin(), classes.end(), name) != classes.end(), InputError, "label '", name,
             "' in the data is not a class of the model (model classes: ", join(classes), ")");
  LabeledSamples out;
  out.class_names = classes;
  out.skipped = all.skipped;
  for (auto s : all.samples) {
    const std::string& name = all.class_names[s.label];
    s.label = static_cast<int>(std::find(classes.begin(), classes.end(), name) - classes.begin());
    out.samples.push_back(std::move(s));
  }
  return out;
}

LabeledSamples load_unlabelled_images(const std::string& images_dir, const std::string& masks_dir) {
  HP_CHECK(fs::is_directory(images_dir), InputError, "image folder '", images_dir, "' does not exist");
  std::vector<std::string> paths;
  for (const auto& entry : fs::directory_iterator(images_dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name[0] != '.' && has_image_extension(name)) paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  LabeledSamples out;
  for (const auto& path : paths) {
    Sample s;
    s.image_path = path;
    if (attach_mask(s, masks_dir, out.skipped)) out.samples.push_back(std::move(s));
  }
  HP_CHECK(!out.samples.empty(), InputError, "image folder '", images_dir, "' has no usable images",
           paths.empty() ? " (expected .png, .jpg, .tif ... files)" : " (none has a mask in '" + masks_dir + "')");
  log_skipped(images_dir, out.skipped);
  return out;
}

}  // namespace hemapath
