#include "hemapath/data/dataset_spec.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "hemapath/core/error.h"
#include "hemapath/core/log.h"
#include "hemapath/io/label_table.h"

namespace hemapath {
namespace fs = std::filesystem;

namespace {
std::string resolve(const std::string& path, const std::string& base_dir) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(base_dir) / path).lexically_normal().string();
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}
}  // namespace

DatasetSpec DatasetSpec::from_config(const ConfigNode& node, const std::string& base_dir) {
  DatasetSpec spec;
  spec.labels_csv = resolve(node.get<std::string>("labels", ""), base_dir);
  spec.class_folders = resolve(node.get<std::string>("class_folders", ""), base_dir);
  spec.images = resolve(node.get<std::string>("images", ""), base_dir);
  spec.masks = resolve(node.get<std::string>("masks", ""), base_dir);
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
    std::string root = spec.images.empty() ? fs::path(spec.labels_csv).parent_path().string() : spec.images;
    table = read_label_csv(spec.labels_csv, root);
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
    if (!spec.masks.empty()) {
      fs::path mask = fs::path(spec.masks) / (fs::path(item.image_path).stem().string() + ".png");
      if (!fs::is_regular_file(mask)) {
        ++out.skipped["mask file missing"];
        continue;
      }
      s.mask_path = mask.string();
    }
    out.samples.push_back(std::move(s));
  }
  HP_CHECK(!out.samples.empty(), InputError, "dataset '", source, "' has no usable images",
           table.items.empty() ? "" : " of the selected classes");
  for (const auto& [reason, count] : out.skipped)
    logger("data")->warn("{}: skipped {} row(s): {}", source, count, reason);
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

}  // namespace hemapath
