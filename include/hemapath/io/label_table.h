#pragma once
/// Image-level labels from a CSV table or a class-folder tree. Bad rows are counted by
/// reason and skipped, never fatal: one mislabelled row must not stop a training run.
#include <map>
#include <string>
#include <vector>

namespace hemapath {

struct LabeledImage {
  std::string image_path;  ///< resolved path of the image file
  std::string label;       ///< class name as written (trimmed)
};

struct LabelTable {
  std::vector<LabeledImage> items;
  /// reason -> count: "image file missing", "empty image name", "empty label",
  /// "multiple labels", "duplicate image", "not an image file", ...
  std::map<std::string, int> skipped;
  std::vector<std::string> skipped_examples;  ///< first few "file:row: reason" for the log
};

/// `image,label` CSV (a header row is required; the columns are found by name, case-
/// insensitive: image|filename|file|path and label|class). Relative image paths are
/// resolved against `image_root`. Rows with an empty image name, an empty label, several
/// labels (extra non-empty columns, or a label containing ',', ';' or '|'), a missing image
/// file or an image already listed are counted by reason and skipped (checked in that
/// order); blank rows are ignored. Throws InputError when the file is missing or has no
/// image/label header.
LabelTable read_label_csv(const std::string& csv_path, const std::string& image_root);

/// Where a label file's image name points: relative names are taken from `image_root`.
std::string label_image_path(const std::string& image, const std::string& image_root);

/// Another column of a label file (e.g. the patient or slide of each image), by image path
/// as read_label_csv resolves it. InputError naming the file and column when it has none.
std::map<std::string, std::string> read_label_column(const std::string& csv_path, const std::string& image_root,
                                                     const std::string& column);

/// Class-folder layout root/<class>/<image>: one item per image file (has_image_extension),
/// sorted by class then file name. Other files are counted as skipped; hidden entries are
/// ignored. Throws InputError when root is missing or has no class folders with images.
LabelTable scan_class_folders(const std::string& root);

}  // namespace hemapath
