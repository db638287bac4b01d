#include "hemapath/io/csv.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "hemapath/core/atomic_file.h"
#include "hemapath/core/error.h"

namespace hemapath {

std::vector<CsvRow> read_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  HP_CHECK(std::filesystem::is_regular_file(path) && in, InputError, "CSV file '", path,
           "' cannot be read: expected an existing file");
  std::stringstream text;
  text << in.rdbuf();
  return parse_csv(text.str(), path);
}

std::vector<CsvRow> parse_csv(const std::string& text, const std::string& source) {
  std::vector<CsvRow> rows;
  CsvRow row;
  std::string field;
  bool quoted = false;
  bool row_has_content = false;
  size_t line = 1;
  size_t quote_line = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      quote_line = line;
      row_has_content = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
      row_has_content = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (row_has_content || !field.empty()) {
        row.push_back(field);
        rows.push_back(row);
      }
      row.clear();
      field.clear();
      row_has_content = false;
      ++line;
    } else {
      field += c;
    }
  }
  HP_CHECK(!quoted, InputError, "CSV file '", source, "': the quote opened on line ", quote_line,
           " is never closed");
  if (row_has_content || !field.empty()) {
    row.push_back(field);
    rows.push_back(row);
  }
  return rows;
}

std::string csv_escape(const std::string& field) {
  if (field.find_first_of(",\"\n\r") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void CsvWriter::add_row(const CsvRow& row) {
  for (size_t i = 0; i < row.size(); ++i) {
    if (i) text_ += ',';
    text_ += csv_escape(row[i]);
  }
  text_ += '\n';
}

void CsvWriter::write(const std::string& path) const { write_text_atomic(path, text_); }

std::string format_number(double value, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, value);
  return buf;
}

}  // namespace hemapath
