#include "hemapath/io/label_table.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

#include "hemapath/core/error.h"
#include "hemapath/io/csv.h"
#include "hemapath/io/image_io.h"

namespace hemapath {
namespace fs = std::filesystem;
namespace {

const size_t kMaxExamples = 5;

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

int find_column(const CsvRow& header, std::initializer_list<const char*> names) {
  for (const char* name : names)
    for (size_t i = 0; i < header.size(); ++i)
      if (lower(trim(header[i])) == name) return int(i);
  return -1;
}

void skip(LabelTable& table, const std::string& where, const std::string& reason) {
  ++table.skipped[reason];
  if (table.skipped_examples.size() < kMaxExamples) table.skipped_examples.push_back(where + ": " + reason);
}

}  // namespace

std::string label_image_path(const std::string& image, const std::string& image_root) {
  const fs::path p = fs::path(image).is_absolute() ? fs::path(image) : fs::path(image_root) / image;
  return p.lexically_normal().string();
}

std::map<std::string, std::string> read_label_column(const std::string& csv_path, const std::string& image_root,
                                                     const std::string& column) {
  const std::vector<CsvRow> rows = read_csv(csv_path);
  HP_CHECK(!rows.empty(), InputError, "label file '", csv_path, "' is empty: expected a header row");
  const int image_col = find_column(rows[0], {"image", "filename", "file", "path"});
  const std::string wanted = lower(trim(column));
  const int value_col = find_column(rows[0], {wanted.c_str()});
  HP_CHECK(image_col >= 0 && value_col >= 0, InputError, "label file '", csv_path, "' has no column '", column,
           "' (or no image column)");
  std::map<std::string, std::string> values;
  for (size_t r = 1; r < rows.size(); ++r) {
    const CsvRow& row = rows[r];
    if (size_t(std::max(image_col, value_col)) >= row.size() || trim(row[image_col]).empty()) continue;
    values[label_image_path(trim(row[image_col]), image_root)] = trim(row[value_col]);
  }
  return values;
}

LabelTable read_label_csv(const std::string& csv_path, const std::string& image_root) {
  const std::vector<CsvRow> rows = read_csv(csv_path);
  HP_CHECK(!rows.empty(), InputError, "label file '", csv_path,
           "' is empty: expected a header row 'image,label' and one row per image");
  const CsvRow& header = rows[0];
  const int image_col = find_column(header, {"image", "filename", "file", "path"});
  const int label_col = find_column(header, {"label", "class"});
  HP_CHECK(image_col >= 0 && label_col >= 0, InputError, "label file '", csv_path,
           "' has no image/label header: expected a first row naming the columns 'image' and 'label'");

  LabelTable table;
  std::set<std::string> seen;
  for (size_t r = 1; r < rows.size(); ++r) {
    const CsvRow& row = rows[r];
    const std::string where = csv_path + ":" + std::to_string(r + 1);
    if (std::all_of(row.begin(), row.end(), [](const std::string& f) { return trim(f).empty(); })) continue;
    const std::string image = size_t(image_col) < row.size() ? trim(row[image_col]) : "";
    const std::string label = size_t(label_col) < row.size() ? trim(row[label_col]) : "";
    bool extra = false;
    for (size_t i = header.size(); i < row.size(); ++i) extra = extra || !trim(row[i]).empty();
    if (image.empty()) {
      skip(table, where, "empty image name");
    } else if (label.empty()) {
      skip(table, where, "empty label");
    } else if (extra || label.find_first_of(",;|") != std::string::npos) {
      skip(table, where, "multiple labels");
    } else {
      const std::string path = label_image_path(image, image_root);
      if (!fs::is_regular_file(path)) skip(table, where, "image file missing");
      else if (!seen.insert(path).second) skip(table, where, "duplicate image");
      else table.items.push_back({path, label});
    }
  }
  return table;
}

LabelTable scan_class_folders(const std::string& root) {
  HP_CHECK(fs::is_directory(root), InputError, "image folder '", root,
           "' does not exist: expected a folder with one sub-folder of images per class");
  std::vector<fs::path> classes, stray;
  for (const auto& entry : fs::directory_iterator(root)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    (entry.is_directory() ? classes : stray).push_back(entry.path());
  }
  std::sort(classes.begin(), classes.end());
  std::sort(stray.begin(), stray.end());
  LabelTable table;
  for (const auto& f : stray) skip(table, f.string(), "file outside class folders");
  for (const auto& dir : classes) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      if (name.empty() || name[0] == '.') continue;
      files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      if (fs::is_regular_file(f) && has_image_extension(f.string()))
        table.items.push_back({f.string(), dir.filename().string()});
      else
        skip(table, f.string(), "not an image file");
    }
  }
  HP_CHECK(!table.items.empty(), InputError, "image folder '", root,
           "' has no class folders with images: expected root/<class>/<image>.png|jpg|tif|bmp");
  return table;
}

}  // namespace hemapath
